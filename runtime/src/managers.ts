// Manager(), SyncManager and BaseManager: Python's multiprocessing.managers. A server process holds
// the objects; proxies in any process call it over an authenticated TCP connection (managers/wire.ts)
// and return Promises. Loopback unless an address is given; values cross as the runtime's codec sends
// them (managers/codec.ts). Node's modules only; the server side lives in managers/server.ts and entry/manager.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { serialize } from 'node:v8';
import { objectCreated, selfKey } from './telemetry';
import { Client, type Address } from './managers/client';
import { encodeValue } from './managers/codec';
import { BaseProxy, proxyTypes, type Token } from './managers/proxies';
import { builtinRegistry, builtinTypes, ManagerServer, type Factory, type TypeSpec } from './managers/server';
import { beginCall } from './managers/report';
import { findTarget, loadTarget, type TargetRef } from './targets';
import { Process, defaultStartMethod, self } from './process';
import type { MapOptions, TaskOptions } from './pool';
import { RawArray, RawValue } from './sharedctypes';
import { ENV } from './protocol';
import { poolTypes } from './managers/pool';

export type { Address } from './managers/client';
export { BaseProxy, AutoProxy, IteratorProxy, type Token } from './managers/proxies';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function toKey(authkey: Buffer | string | undefined): Buffer | undefined {
  if (authkey === undefined) return undefined;
  return typeof authkey === 'string' ? Buffer.from(authkey, 'utf8') : Buffer.from(authkey);
}

type ProxyType = typeof BaseProxy;

/** Options of BaseManager.register(). Python: register(typeid, callable, proxytype, exposed, method_to_typeid, create_method) */
export interface RegisterOptions {
  /** Method names a proxy may call. @default the proxytype's `_exposed_`, else the object's public methods */
  exposed?: readonly string[];
  /** A BaseProxy subclass for this typeid's proxies. @default AutoProxy */
  proxytype?: ProxyType;
  /** Methods whose results are served as objects of another typeid and returned as proxies. @default the proxytype's `_methodToTypeid_` */
  methodToTypeid?: Readonly<Record<string, string>>;
  /** Adds a method named `typeid` to the manager that creates the object. @default true */
  create?: boolean;
}

interface Registration {
  callable?: Factory;
  /** One of SyncManager's own typeids served by the runtime as it is (its Pool and what the Pool returns). */
  builtin?: boolean;
  exposed?: readonly string[];
  proxytype?: ProxyType;
  methodToTypeid?: Readonly<Record<string, string>>;
}

const registries = new WeakMap<object, Map<string, Registration>>();

function registryOf(cls: object): Map<string, Registration> {
  let registry = registries.get(cls);
  if (!registry) {
    const parent = Object.getPrototypeOf(cls) as object | null;
    registry = new Map(parent ? registryOf(parent) : []);
    registries.set(cls, registry);
  }
  return registry;
}

/** A registration SyncManager makes itself: served as data, in the manager's own process. */
function isBuiltin(typeid: string, registration: Registration): boolean {
  if (registration.builtin === true) return true;
  return registration.callable !== undefined && builtinTypes[typeid] === registration.callable && !registration.exposed && !registration.methodToTypeid;
}

function checkRegistration(typeid: string, callable: unknown, options: RegisterOptions): void {
  if (typeof typeid !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(typeid) || typeid === 'constructor' || typeid === '__proto__')
    throw new TypeError(`bad typeid ${JSON.stringify(typeid)}`);
  if (callable !== undefined && callable !== null && typeof callable !== 'function')
    throw new TypeError(`register(${JSON.stringify(typeid)}, callable): callable must be a function or a class`);
  if (typeof options !== 'object' || options === null)
    throw new TypeError('register(typeid, callable, options): options must be an object such as { exposed: ["f"] }');
  const { exposed, proxytype, methodToTypeid, create } = options;
  if (exposed !== undefined && (!Array.isArray(exposed) || !exposed.every((name) => typeof name === 'string')))
    throw new TypeError('register(): exposed must be an array of method names');
  if (proxytype !== undefined && !(typeof proxytype === 'function' && proxytype.prototype instanceof BaseProxy))
    throw new TypeError('register(): proxytype must be a subclass of BaseProxy');
  if (
    methodToTypeid !== undefined &&
    (typeof methodToTypeid !== 'object' || methodToTypeid === null || !Object.values(methodToTypeid).every((t) => typeof t === 'string'))
  ) {
    throw new TypeError('register(): methodToTypeid must map method names to typeids');
  }
  if (create !== undefined && typeof create !== 'boolean') throw new TypeError('register(): create must be true or false');
}

export interface BaseManagerOptions {
  /** Where to listen (`start()`, `getServer()`) or connect (`connect()`). @default ['127.0.0.1', 0] */
  address?: Address;
  /** The shared secret both sides prove they hold; never sent. @default 32 random bytes */
  authkey?: Buffer | string;
}

const MANAGER_ENTRY = ['manager.cjs', join('entry', 'manager.ts')];

function managerEntry(): { path: string; execArgv: string[] } {
  for (const name of MANAGER_ENTRY) {
    const path = join(__dirname, name);
    if (existsSync(path)) return { path, execArgv: path.endsWith('.ts') ? ['--import', 'tsx'] : [] };
  }
  throw new Error(`forkscope cannot find its manager server entry beside ${__dirname} (is the runtime built?)`);
}

/** A manager: a server holding objects, and the proxies to reach them. Python: multiprocessing.managers.BaseManager */
export class BaseManager {
  readonly #authkey: Buffer;
  #address: Address;
  #process: ChildProcess | undefined;
  #serverProcess: Process | undefined;
  #server: ManagerServer | undefined;
  #client: Client | undefined;
  #starting: Promise<this> | undefined;

  constructor(options: BaseManagerOptions = {}) {
    this.#address = options.address ?? ['127.0.0.1', 0];
    this.#authkey = toKey(options.authkey) ?? randomBytes(32);
    if (!LOOPBACK.has(this.#address[0])) {
      process.emitWarning(`forkscope: a manager at ${this.#address[0]} is reachable beyond this machine; only the authkey protects it`, {
        code: 'FORKSCOPE_MANAGER_ADDRESS',
      });
    }
  }

  /**
   * Adds a typeid: `callable` makes the object in the server (a client of a remote manager may omit it); its
   * proxies call only the exposed methods. Python: BaseManager.register
   */
  static register(typeid: string, callable?: ((...args: any[]) => unknown) | (new (...args: any[]) => unknown) | null, options: RegisterOptions = {}): void {
    checkRegistration(typeid, callable, options);
    const proxytype = options.proxytype;
    registryOf(this).set(typeid, {
      callable: (callable ?? undefined) as Factory | undefined,
      exposed: options.exposed ?? proxytype?._exposed_,
      proxytype,
      methodToTypeid: options.methodToTypeid ?? proxytype?._methodToTypeid_,
    });
    if (proxytype) proxyTypes.set(typeid, proxytype);
    if (options.create !== false && !(typeid in this.prototype)) {
      Object.defineProperty(this.prototype, typeid, {
        configurable: true,
        writable: true,
        value(this: BaseManager, ...args: unknown[]) {
          return this.create(typeid, ...args);
        },
      });
    }
  }

  /** `[host, port]` the server listens on (known after start(), getServer() or given). */
  get address(): Address {
    return [...this.#address];
  }

  /** The authkey clients must prove they hold. */
  get authkey(): Buffer {
    return Buffer.from(this.#authkey);
  }

  /** The server process's pid, after start(). */
  get pid(): number | undefined {
    return this.#process?.pid ?? this.#serverProcess?.pid ?? undefined;
  }

  #registry(): Record<string, TypeSpec> {
    const out = builtinRegistry();
    for (const typeid of Object.keys(out)) if (!registryOf(this.constructor).has(typeid)) delete out[typeid];
    for (const [typeid, registration] of registryOf(this.constructor)) {
      if (isBuiltin(typeid, registration)) continue;
      out[typeid] = { factory: registration.callable, exposed: registration.exposed, methodToTypeid: registration.methodToTypeid, custom: true };
    }
    return out;
  }

  /**
   * Starts the server in a new process (in this one under FORKSCOPE_SINGLE_PROCESS=1); the first create() does
   * it if nobody did, so `await using m = new MyManager()` works as Python's `with`. `initializer(...initargs)`
   * runs in the server's process before it serves (an exported function, as a target).
   * Python: BaseManager.start(initializer=None, initargs=())
   */
  start(initializer?: ((...args: any[]) => unknown) | null, initargs: readonly unknown[] = []): Promise<this> {
    if (initializer !== undefined && initializer !== null && typeof initializer !== 'function')
      return Promise.reject(new TypeError(`start(initializer, initargs): initializer must be a function, got ${typeof initializer}`));
    if (!Array.isArray(initargs)) return Promise.reject(new TypeError('start(initializer, initargs): initargs must be an array'));
    if (this.#starting || this.#client || this.#server) return Promise.reject(new Error('this manager has already been started'));
    this.#starting = this.#start(initializer ?? undefined, initargs);
    return this.#starting;
  }

  async #start(initializer?: (...args: any[]) => unknown, initargs: readonly unknown[] = []): Promise<this> {
    if (process.env[ENV.singleProcess] === '1') {
      if (initializer) await initializer(...initargs);
      const server = await this.getServer();
      server.unref();
      this.#connectClient();
      return this;
    }
    const custom: CustomType[] = [];
    for (const [typeid, registration] of registryOf(this.constructor)) {
      if (isBuiltin(typeid, registration)) continue;
      const { callable, exposed, methodToTypeid } = registration;
      custom.push({
        typeid,
        target: callable ? findTarget(callable) : undefined,
        exposed: exposed ? [...exposed] : undefined,
        methodToTypeid: methodToTypeid ? { ...methodToTypeid } : undefined,
      });
    }
    const builtins = [...registryOf(this.constructor).keys()].filter((typeid) => isBuiltin(typeid, registryOf(this.constructor).get(typeid)!));
    // The user's modules (custom typeids, an initializer) load in a forkscope Process; the rest serves from the runtime alone.
    if (custom.length > 0 || initializer) return this.#startAsProcess(custom, builtins, initializer, initargs);
    const entry = managerEntry();
    const child = fork(entry.path, [], { execArgv: entry.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    this.#process = child;
    const [host, port] = this.#address;
    const address = await new Promise<Address>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`the manager process exited before it was ready (code ${code}, signal ${signal})`)));
      child.on('message', (message: { t?: string; address?: Address; error?: string }) => {
        if (message?.t === 'ready' && message.address) resolve(message.address);
        if (message?.t === 'failed') reject(new Error(`the manager process could not start: ${message.error}`));
      });
      // The program's main module and start method: a Pool in the manager starts its workers as this process would.
      const { mainModule: main } = self;
      child.send({
        t: 'start',
        host,
        port,
        authkey: this.#authkey.toString('hex'),
        name: `${this.constructor.name}-server`,
        parent: selfKey(),
        main,
        startMethod: defaultStartMethod(),
      });
    });
    child.removeAllListeners('exit');
    child.removeAllListeners('error');
    child.on('error', () => {});
    // An idle manager never keeps the program alive; it exits by itself when this process goes.
    child.unref();
    child.channel?.unref();
    this.#address = address;
    this.#connectClient();
    objectCreated('Manager', { label: `Manager ${address.join(':')}` });
    return this;
  }

  /**
   * Custom typeids need the user's modules, so the server runs as a forkscope Process (daemonic, so an
   * idle manager never keeps the program alive) that imports them by module and export, as targets.
   */
  async #startAsProcess(custom: CustomType[], builtins: string[], initializer?: (...args: any[]) => unknown, initargs: readonly unknown[] = []): Promise<this> {
    if (initializer) findTarget(initializer);
    const port = new RawValue('i', 0);
    const failure = new RawArray('c', 512);
    const [host, requested] = this.#address;
    const config: ServeConfig = { host, port: requested, authkey: this.#authkey.toString('hex'), custom, builtins };
    const child = new Process({
      target: serveManager,
      args: [config, port, failure, initializer, [...initargs]],
      daemon: true,
      name: `${this.constructor.name}-server`,
    });
    child.start();
    this.#serverProcess = child;
    while (port.value === 0) {
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (port.value <= 0) {
      if (child.exitCode === null) child.kill();
      await child.join({ timeout: 5000 });
      this.#serverProcess = undefined;
      this.#starting = undefined;
      throw new Error(`the manager process could not start: ${failure.value || `it exited with code ${child.exitCode}`}`);
    }
    this.#address = [host, port.value];
    this.#connectClient();
    objectCreated('Manager', { label: `Manager ${this.#address.join(':')}` });
    return this;
  }

  /** A server in this process, listening (Python's get_server(); `await` it, it serves until closed). */
  async getServer(): Promise<ManagerServer> {
    const [host, port] = this.#address;
    this.#server = await ManagerServer.listen({ host, port, authkey: this.#authkey, registry: this.#registry(), onShutdown: () => void this.#server?.close() });
    this.#address = this.#server.address;
    return this.#server;
  }

  /** Connects to a running manager at `address` (checking both sides' keys). Python: BaseManager.connect() */
  async connect(): Promise<this> {
    this.#connectClient();
    await this.#client!.send(serialize({ op: 'release', oid: '' }), 'connect()');
    return this;
  }

  #connectClient(): void {
    const client = Client.for(this.#address, this.#authkey);
    for (const [typeid, { proxytype }] of registryOf(this.constructor)) if (proxytype) client.proxyTypes.set(typeid, proxytype);
    this.#client = client;
  }

  /** Makes an object of `typeid` in the server and returns its proxy (starting the manager if nobody did). Python: BaseManager._create */
  async create<T = any>(typeid: string, ...args: unknown[]): Promise<T> {
    if (!this.#client) {
      if (!this.#starting && !this.#server) void this.start().catch(() => {});
      await this.#starting;
      if (!this.#client) throw new Error('start() or connect() the manager first');
    }
    const report = beginCall(this.#client!.address, typeid, 'create');
    const body = encodeValue({ op: 'create', typeid, args, ...(report?.id ? { trace: report.id } : {}) }, `${typeid}()`);
    return (await this.#client!.send(body, `${typeid}()`, report)) as T;
  }

  /** Stops the server (and its process) and waits for it. Python: BaseManager.shutdown() */
  async shutdown(): Promise<void> {
    await this.#starting?.catch(() => {});
    const child = this.#process;
    const serverProcess = this.#serverProcess;
    if (this.#client && (child || this.#server || serverProcess)) await this.#client.send(serialize({ op: 'shutdown' }), 'shutdown()').catch(() => {});
    this.#client?.close();
    this.#client = undefined;
    await this.#server?.close();
    this.#server = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    this.#process = undefined;
    if (serverProcess) {
      await serverProcess.join({ timeout: 2000 });
      if (serverProcess.exitCode === null) {
        serverProcess.kill();
        await serverProcess.join({ timeout: 5000 });
      }
      this.#serverProcess = undefined;
    }
  }

  /** Shuts the manager down at the end of an `await using` block. Python: BaseManager.__exit__ */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  [inspect.custom](): string {
    return `${this.constructor.name}(address=${this.#address.join(':')}${this.pid !== undefined ? `, pid=${this.pid}` : ''})`;
  }
}

interface CustomType {
  typeid: string;
  target?: TargetRef;
  exposed?: string[];
  methodToTypeid?: Record<string, string>;
}

interface ServeConfig {
  host: string;
  port: number;
  authkey: string;
  custom: CustomType[];
  builtins?: string[];
}

/** A manager's server as a Process target: serves until a client asks it to shut down. Not for direct use. */
export async function serveManager(
  config: ServeConfig,
  port: RawValue<'i'>,
  failure: RawArray<'c'>,
  initializer?: (...args: unknown[]) => unknown,
  initargs: unknown[] = [],
): Promise<void> {
  let server: ManagerServer;
  try {
    if (initializer) await initializer(...initargs);
    const registry = builtinRegistry();
    if (config.builtins) for (const typeid of Object.keys(registry)) if (!config.builtins.includes(typeid)) delete registry[typeid];
    for (const { typeid, target, exposed, methodToTypeid } of config.custom) {
      registry[typeid] = { factory: target ? ((await loadTarget(target)) as Factory) : undefined, exposed, methodToTypeid, custom: true };
    }
    let stopped!: () => void;
    const done = new Promise<void>((resolve) => (stopped = resolve));
    server = await ManagerServer.listen({
      host: config.host,
      port: config.port,
      authkey: Buffer.from(config.authkey, 'hex'),
      registry,
      onShutdown: () => void server.close().then(stopped),
    });
    port.value = server.address[1];
    await done;
  } catch (error) {
    failure.value = String((error as Error).message ?? error).slice(0, 500);
    port.value = -1;
    throw error;
  }
}

/** What every proxy has besides its object's methods. Python: BaseProxy's `_callmethod`, `_getvalue`, `_token` */
export interface ProxyMembers {
  readonly _token: Token;
  readonly _exposed_: readonly string[];
  _callMethod(name: string, args?: readonly unknown[]): Promise<any>;
  _getValue(): Promise<any>;
}

/** Python's `{ timeout }` of a wait, or a bare number where Python's first parameter is the timeout. */
type Timeout = number | { timeout?: number | null };

export interface QueueProxy<T = any> extends ProxyMembers {
  put(item: T, options?: { block?: boolean; timeout?: number }): Promise<void>;
  get(options?: { block?: boolean; timeout?: number }): Promise<T>;
  putNowait(item: T): Promise<void>;
  getNowait(): Promise<T>;
  qsize(): Promise<number>;
  empty(): Promise<boolean>;
  full(): Promise<boolean>;
  taskDone(): Promise<void>;
  join(): Promise<void>;
}
export interface DictProxy<V = any> extends ProxyMembers {
  get(key: unknown, fallback?: V): Promise<V>;
  set(key: unknown, value: V): Promise<void>;
  delete(key: unknown): Promise<void>;
  has(key: unknown): Promise<boolean>;
  pop(key: unknown, fallback?: V): Promise<V>;
  popitem(): Promise<[unknown, V]>;
  setdefault(key: unknown, fallback?: V): Promise<V>;
  keys(): Promise<unknown[]>;
  values(): Promise<V[]>;
  items(): Promise<[unknown, V][]>;
  update(other: Record<string, V> | [unknown, V][]): Promise<void>;
  clear(): Promise<void>;
  copy(): Promise<Record<string, V>>;
  len(): Promise<number>;
}
export interface ListProxy<T = any> extends ProxyMembers {
  get(index: number): Promise<T>;
  set(index: number, value: T): Promise<void>;
  delete(index: number): Promise<void>;
  append(value: T): Promise<void>;
  extend(values: T[]): Promise<void>;
  insert(index: number, value: T): Promise<void>;
  pop(index?: number): Promise<T>;
  remove(value: T): Promise<void>;
  index(value: T): Promise<number>;
  count(value: T): Promise<number>;
  reverse(): Promise<void>;
  sort(options?: { reverse?: boolean }): Promise<void>;
  clear(): Promise<void>;
  copy(): Promise<T[]>;
  slice(start?: number, end?: number): Promise<T[]>;
  len(): Promise<number>;
}
export interface LockProxy extends ProxyMembers {
  acquire(options?: { block?: boolean; timeout?: number }): Promise<boolean>;
  release(): Promise<void>;
  locked(): Promise<boolean>;
  /** `await lock.acquire(); await using held = lock;` releases at the block's end, as Python's `with`. */
  [Symbol.asyncDispose](): Promise<void>;
}
export interface SemaphoreProxy extends ProxyMembers {
  acquire(options?: { block?: boolean; timeout?: number }): Promise<boolean>;
  release(n?: number): Promise<void>;
  getValue(): Promise<number>;
  /** `await sem.acquire(); await using held = sem;` releases at the block's end, as Python's `with`. */
  [Symbol.asyncDispose](): Promise<void>;
}
export interface EventProxy extends ProxyMembers {
  set(): Promise<void>;
  clear(): Promise<void>;
  isSet(): Promise<boolean>;
  wait(timeout?: Timeout): Promise<boolean>;
}
export interface ConditionProxy extends LockProxy {
  wait(timeout?: Timeout): Promise<boolean>;
  /** Waits until `predicate()` is truthy (checked here, between waits); resolves its last value. */
  waitFor<R>(predicate: () => R | Promise<R>, timeout?: Timeout): Promise<R>;
  notify(n?: number): Promise<void>;
  notifyAll(): Promise<void>;
}
export interface BarrierProxy extends ProxyMembers {
  wait(timeout?: Timeout): Promise<number>;
  abort(): Promise<void>;
  reset(): Promise<void>;
  readonly parties: Promise<number>;
  readonly nWaiting: Promise<number>;
  readonly broken: Promise<boolean>;
}
export interface ValueProxy<T = any> extends ProxyMembers {
  get(): Promise<T>;
  set(value: T): Promise<void>;
  /** Reading gives a Promise; assigning sends the write (in order with later calls). */
  get value(): Promise<T>;
  set value(value: T);
}
export interface ArrayProxy<T = any> extends ProxyMembers {
  get(index: number): Promise<T>;
  set(index: number, value: T): Promise<void>;
  len(): Promise<number>;
  copy(): Promise<T[]>;
  slice(start?: number, end?: number): Promise<T[]>;
}
/** An AsyncResult of a manager's Pool. Python: AsyncResult through an AutoProxy */
export interface AsyncResultProxy<T = any> extends ProxyMembers {
  get(options?: number | { timeout?: number }): Promise<T>;
  wait(options?: number | { timeout?: number }): Promise<void>;
  ready(): Promise<boolean>;
  successful(): Promise<boolean>;
}
/** The iterator of a manager's Pool.imap: `for await`, or `next({ timeout })`. Python: IteratorProxy of 'Iterator' */
export interface PoolIteratorProxy<T = any> extends ProxyMembers, AsyncIterableIterator<T> {
  next(options?: number | { timeout?: number }): Promise<IteratorResult<T>>;
}
/** A Pool in a manager; the iterables cross the wire (arrays, not generators). Python: PoolProxy */
export interface PoolProxy extends ProxyMembers {
  apply<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, args?: A, options?: Omit<TaskOptions, 'signal'>): Promise<Awaited<R>>;
  applyAsync<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    args?: A,
    options?: Omit<TaskOptions, 'signal'>,
  ): Promise<AsyncResultProxy<Awaited<R>>>;
  map<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T>, options?: Omit<MapOptions, 'signal'>): Promise<Awaited<R>[]>;
  mapAsync<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T>, options?: Omit<MapOptions, 'signal'>): Promise<AsyncResultProxy<Awaited<R>[]>>;
  starmap<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, iterable: Iterable<A>, options?: Omit<MapOptions, 'signal'>): Promise<Awaited<R>[]>;
  starmapAsync<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    iterable: Iterable<A>,
    options?: Omit<MapOptions, 'signal'>,
  ): Promise<AsyncResultProxy<Awaited<R>[]>>;
  imap<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T>, options?: Omit<MapOptions, 'signal'>): Promise<PoolIteratorProxy<Awaited<R>>>;
  imapUnordered<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T>, options?: Omit<MapOptions, 'signal'>): Promise<PoolIteratorProxy<Awaited<R>>>;
  close(): Promise<void>;
  terminate(): Promise<void>;
  join(): Promise<void>;
  /** `await using pool = await manager.Pool()` terminates it at the block's end, as Python's `with`. */
  [Symbol.asyncDispose](): Promise<void>;
}
/** Attributes live in the manager: `ns.x = 1` sends, `await ns.x` reads, `delete ns.x` removes. */
export type NamespaceProxy = Record<string, any>;

/** A manager serving Python's SyncManager types. Python: multiprocessing.managers.SyncManager */
export class SyncManager extends BaseManager {
  /** A shared dict. Python: manager.dict() */
  dict<V = any>(init?: Record<string, V> | [unknown, V][]): Promise<DictProxy<V>> {
    return this.create('dict', init ?? null);
  }
  /** A shared list. Python: manager.list() */
  list<T = any>(init?: T[]): Promise<ListProxy<T>> {
    return this.create('list', init ?? null);
  }
  /** A shared attribute bag. Python: manager.Namespace() */
  Namespace(init?: Record<string, unknown>): Promise<NamespaceProxy> {
    return this.create('Namespace', init ?? null);
  }
  /** Python: manager.Lock() */
  Lock(): Promise<LockProxy> {
    return this.create('Lock');
  }
  /** Python: manager.RLock() */
  RLock(): Promise<LockProxy> {
    return this.create('RLock');
  }
  /** Python: manager.Semaphore(value=1) */
  Semaphore(value = 1): Promise<SemaphoreProxy> {
    return this.create('Semaphore', value);
  }
  /** Python: manager.BoundedSemaphore(value) */
  BoundedSemaphore(value = 1): Promise<SemaphoreProxy> {
    return this.create('BoundedSemaphore', value);
  }
  /** Python: manager.Condition(lock) */
  Condition(lock?: LockProxy): Promise<ConditionProxy> {
    return this.create('Condition', lock ?? null);
  }
  /** Python: manager.Event() */
  Event(): Promise<EventProxy> {
    return this.create('Event');
  }
  /** Python: manager.Barrier(parties, timeout=None); an action cannot run in the server. */
  Barrier(parties: number, options: { timeout?: number | null } = {}): Promise<BarrierProxy> {
    return this.create('Barrier', parties, options);
  }
  /** A queue in the manager, bounded by `maxsize` (0: unbounded), as `new Queue({ maxsize })`. Python: manager.Queue(maxsize=0) */
  Queue<T = any>(options: { maxsize?: number } | number = {}): Promise<QueueProxy<T>> {
    return this.create('Queue', options);
  }
  /** Python: manager.JoinableQueue(maxsize=0) */
  JoinableQueue<T = any>(options: { maxsize?: number } | number = {}): Promise<QueueProxy<T>> {
    return this.create('JoinableQueue', options);
  }
  /** Python: manager.Value(typecode, value) */
  Value<T = any>(typecode: string, value: T): Promise<ValueProxy<T>> {
    return this.create('Value', typecode, value);
  }
  /** Python: manager.Array(typecode, sequence) */
  Array<T = any>(typecode: string, sizeOrInit: number | T[]): Promise<ArrayProxy<T>> {
    return this.create('Array', typecode, sizeOrInit);
  }
  /**
   * A Pool in the manager's process, as `new Pool(options)`; its workers are that process's children, and what its
   * proxy maps must be exported (functions cross by reference). `await using` terminates it. Python: manager.Pool()
   */
  Pool(options: { processes?: number; initializer?: Function; initargs?: unknown[]; maxTasksPerChild?: number } | number = {}): Promise<PoolProxy> {
    return this.create('Pool', options);
  }
}

for (const [typeid, factory] of Object.entries(builtinTypes)) registryOf(SyncManager).set(typeid, { callable: factory });
for (const typeid of Object.keys(poolTypes)) registryOf(SyncManager).set(typeid, { builtin: true });

/** Starts a SyncManager in its own process: `await using manager = await Manager()`. Python: multiprocessing.Manager() */
export async function Manager(options: BaseManagerOptions = {}): Promise<SyncManager> {
  return new SyncManager(options).start();
}
