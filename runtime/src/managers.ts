// Manager(), SyncManager and BaseManager: Python's multiprocessing.managers. A server process holds
// the objects; proxies in any process call it over an authenticated TCP connection (managers/wire.ts)
// and return Promises. Loopback unless an address is given; data-only JSON on the wire.
// Node's modules only; the server side lives in managers/server.ts and entry/manager.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { reduceSymbol, registerReviver, type ReducedObject } from './reduction';
import { EOFError, RemoteError } from './errors';
import { objectCreated } from './telemetry';
import { clientHandshake, encodeFrame, FrameReader, FRAME_MAX } from './managers/wire';
import { builtinTypes, ManagerServer, type Factory } from './managers/server';
import { findTarget, loadTarget, type TargetRef } from './targets';
import { Process } from './process';
import { RawArray, RawValue } from './sharedctypes';

/** Where a manager listens: `[host, port]`. Python: the address tuple */
export type Address = [host: string, port: number];

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function toKey(authkey: Buffer | string | undefined): Buffer | undefined {
  if (authkey === undefined) return undefined;
  return typeof authkey === 'string' ? Buffer.from(authkey, 'utf8') : Buffer.from(authkey);
}

function remoteError(data: { name?: unknown; message?: unknown; stack?: unknown } | undefined): Error {
  return new RemoteError(String(data?.name ?? 'Error'), String(data?.message ?? 'the manager reported an error'), typeof data?.stack === 'string' ? data.stack : undefined);
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  what: string;
}

/** One authenticated connection per manager per process, shared by all its proxies. */
class Client {
  static readonly #clients = new Map<string, Client>();
  readonly address: Address;
  readonly authkey: Buffer;
  #socket: Socket | undefined;
  #connecting: Promise<Socket> | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  private constructor(address: Address, authkey: Buffer) {
    this.address = address;
    this.authkey = authkey;
  }

  static for(address: Address, authkey: Buffer): Client {
    const key = `${address[0]}:${address[1]}:${createHash('sha256').update(authkey).digest('hex')}`;
    let client = Client.#clients.get(key);
    if (!client) Client.#clients.set(key, (client = new Client(address, authkey)));
    return client;
  }

  #connect(): Promise<Socket> {
    if (this.#socket && !this.#socket.destroyed) return Promise.resolve(this.#socket);
    this.#connecting ??= new Promise<Socket>((resolve, reject) => {
      const [host, port] = this.address;
      const socket = netConnect({ host, port });
      socket.setNoDelay(true);
      const fail = (error: Error): void => {
        socket.destroy();
        this.#connecting = undefined;
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE') {
          const gone = new Error(code === 'ECONNREFUSED' ? `no manager is listening at ${host}:${port}` : `the manager at ${host}:${port} dropped the connection`);
          gone.name = code === 'ECONNREFUSED' ? 'ConnectionRefusedError' : 'ConnectionResetError';
          reject(gone);
        } else reject(error);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        clientHandshake(socket, this.authkey).then(() => {
          socket.off('error', fail);
          this.#attach(socket);
          this.#connecting = undefined;
          resolve(socket);
        }, fail);
      });
    });
    return this.#connecting;
  }

  #attach(socket: Socket): void {
    this.#socket = socket;
    const reader = new FrameReader(
      FRAME_MAX,
      (message) => {
        const { id, ok, value, error } = message as { id: number; ok: boolean; value: unknown; error?: { name: string; message: string; stack?: string } };
        const pending = this.#pending.get(id);
        if (!pending) return;
        this.#pending.delete(id);
        if (this.#pending.size === 0) socket.unref();
        if (ok) pending.resolve(value);
        else pending.reject(remoteError(error));
      },
      () => socket.destroy(),
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      const [host, port] = this.address;
      for (const [id, pending] of this.#pending) {
        this.#pending.delete(id);
        pending.reject(new EOFError(`the manager at ${host}:${port} went away during ${pending.what}`));
      }
    });
    socket.unref();
  }

  async request(message: Record<string, unknown>, what: string): Promise<unknown> {
    const socket = await this.#connect();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, what });
      // A pending call keeps the program alive; an idle connection does not.
      socket.ref();
      socket.write(encodeFrame({ ...message, id }));
    });
  }

  close(): void {
    this.#socket?.destroy();
  }
}

interface ProxyRef {
  oid: string;
  typeid: string;
}

/** Attributes read as values (each a Promise) rather than called. */
const ATTRIBUTES: Record<string, ReadonlySet<string>> = {
  Barrier: new Set(['parties', 'nWaiting', 'broken']),
};

function encodeArg(value: unknown): unknown {
  return value;
}

function decodeResult(client: Client, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => decodeResult(client, v));
  if (value !== null && typeof value === 'object') {
    const ref = (value as { $proxy?: ProxyRef }).$proxy;
    if (ref && typeof ref.oid === 'string' && typeof ref.typeid === 'string' && Object.keys(value).length === 1) return makeProxy(client, ref);
    for (const [k, v] of Object.entries(value)) (value as Record<string, unknown>)[k] = decodeResult(client, v);
  }
  return value;
}

function warnLost(error: unknown): void {
  process.emitWarning(`forkscope: a manager call made without await failed: ${(error as Error).message}`);
}

/** A proxy for an object in a manager: every method call returns a Promise. Python: BaseProxy */
function makeProxy(client: Client, ref: ProxyRef): unknown {
  const { oid, typeid } = ref;
  const call = (method: string, args: unknown[]): Promise<unknown> =>
    client.request({ op: 'call', oid, method, args: args.map(encodeArg) }, `${typeid}.${method}()`).then((value) => decodeResult(client, value));
  const fire = (method: string, args: unknown[]): void => void call(method, args).catch(warnLost);
  const attributes = ATTRIBUTES[typeid];
  const state = { address: client.address, authkey: client.authkey.toString('hex'), oid, typeid };
  return new Proxy(Object.create(null) as object, {
    get(_target, key) {
      if (key === 'then') return undefined;
      if (key === reduceSymbol) return (): ReducedObject => ({ kind: 'forkscope.Proxy', state });
      if (key === 'toJSON') return () => ({ $proxy: { oid, typeid } });
      if (key === inspect.custom) return () => `<${typeid}Proxy ${oid.slice(0, 8)} at ${client.address.join(':')}>`;
      if (key === Symbol.toStringTag) return `${typeid}Proxy`;
      if (typeof key === 'symbol') return undefined;
      if (key === 'typeid') return typeid;
      if (typeid === 'Namespace') return call('__getattr__', [key]);
      if (key === 'value' && typeid === 'Value') return call('get', []);
      if (attributes?.has(key)) return call(key, []);
      return (...args: unknown[]) => call(key, args);
    },
    set(_target, key, value) {
      if (typeof key === 'string' && typeid === 'Namespace') fire('__setattr__', [key, value]);
      else if (key === 'value' && typeid === 'Value') fire('set', [value]);
      else throw new TypeError(`cannot set ${String(key)} on a ${typeid} proxy`);
      return true;
    },
    deleteProperty(_target, key) {
      if (typeof key !== 'string' || typeid !== 'Namespace') throw new TypeError(`cannot delete ${String(key)} from a ${typeid} proxy`);
      fire('__delattr__', [key]);
      return true;
    },
  });
}

registerReviver('forkscope.Proxy', (state) => {
  const { address, authkey, oid, typeid } = state as { address: Address; authkey: string; oid: string; typeid: string };
  return makeProxy(Client.for(address, Buffer.from(authkey, 'hex')), { oid, typeid });
});

interface Registration {
  callable?: Factory;
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

  constructor(options: BaseManagerOptions = {}) {
    this.#address = options.address ?? ['127.0.0.1', 0];
    this.#authkey = toKey(options.authkey) ?? randomBytes(32);
    if (!LOOPBACK.has(this.#address[0])) {
      process.emitWarning(`forkscope: a manager at ${this.#address[0]} is reachable beyond this machine; only the authkey protects it`, { code: 'FORKSCOPE_MANAGER_ADDRESS' });
    }
  }

  /** Adds a typeid: `callable` makes the object in the server; a client of a remote manager may omit it. Python: BaseManager.register */
  static register(typeid: string, callable?: ((...args: any[]) => unknown) | (new (...args: any[]) => unknown)): void {
    if (!/^[A-Za-z_$][\w$]*$/.test(typeid) || typeid === 'constructor' || typeid === '__proto__') throw new TypeError(`bad typeid ${JSON.stringify(typeid)}`);
    registryOf(this).set(typeid, { callable: callable as Factory | undefined });
    if (!(typeid in this.prototype)) {
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

  #registry(): Record<string, Factory> {
    const out: Record<string, Factory> = Object.create(null) as Record<string, Factory>;
    for (const [typeid, { callable }] of registryOf(this.constructor)) if (callable) out[typeid] = callable;
    return out;
  }

  /** Starts the server in a new process (in this one under FORKSCOPE_SINGLE_PROCESS=1). Python: BaseManager.start() */
  async start(): Promise<this> {
    if (this.#process || this.#server || this.#serverProcess) throw new Error('this manager has already been started');
    if (process.env.FORKSCOPE_SINGLE_PROCESS === '1') {
      const server = await this.getServer();
      server.unref();
      this.#connectClient();
      return this;
    }
    const custom: CustomType[] = [];
    for (const [typeid, { callable }] of registryOf(this.constructor)) {
      if (callable && builtinTypes[typeid] !== callable) custom.push({ typeid, target: findTarget(callable) });
    }
    if (custom.length > 0) return this.#startAsProcess(custom);
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
      child.send({ t: 'start', host, port, authkey: this.#authkey.toString('hex') });
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
  async #startAsProcess(custom: CustomType[]): Promise<this> {
    const port = new RawValue('i', 0);
    const failure = new RawArray('c', 512);
    const [host, requested] = this.#address;
    const child = new Process({ target: serveManager, args: [{ host, port: requested, authkey: this.#authkey.toString('hex'), custom }, port, failure], daemon: true, name: `${this.constructor.name}-server` });
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
    await this.#client!.request({ op: 'release', oid: '' }, 'connect()');
    return this;
  }

  #connectClient(): void {
    this.#client = Client.for(this.#address, this.#authkey);
  }

  /** Makes an object of `typeid` in the server and returns its proxy. */
  async create<T = any>(typeid: string, ...args: unknown[]): Promise<T> {
    if (!this.#client) throw new Error('start() or connect() the manager first');
    const client = this.#client;
    const ref = (await client.request({ op: 'create', typeid, args: args.map(encodeArg) }, `${typeid}()`)) as ProxyRef;
    return makeProxy(client, ref) as T;
  }

  /** Stops the server (and its process) and waits for it. Python: BaseManager.shutdown() */
  async shutdown(): Promise<void> {
    const child = this.#process;
    const serverProcess = this.#serverProcess;
    if (this.#client && (child || this.#server || serverProcess)) await this.#client.request({ op: 'shutdown' }, 'shutdown()').catch(() => {});
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

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  [inspect.custom](): string {
    return `${this.constructor.name}(address=${this.#address.join(':')}${this.#process ? `, pid=${this.#process.pid}` : ''})`;
  }
}

interface CustomType {
  typeid: string;
  target: TargetRef;
}

interface ServeConfig {
  host: string;
  port: number;
  authkey: string;
  custom: CustomType[];
}

/** A manager's server as a Process target: serves until a client asks it to shut down. Not for direct use. */
export async function serveManager(config: ServeConfig, port: RawValue<'i'>, failure: RawArray<'c'>): Promise<void> {
  let server: ManagerServer;
  try {
    const registry: Record<string, Factory> = Object.assign(Object.create(null) as Record<string, Factory>, builtinTypes);
    for (const { typeid, target } of config.custom) registry[typeid] = (await loadTarget(target)) as Factory;
    let stopped!: () => void;
    const done = new Promise<void>((resolve) => (stopped = resolve));
    server = await ManagerServer.listen({ host: config.host, port: config.port, authkey: Buffer.from(config.authkey, 'hex'), registry, onShutdown: () => void server.close().then(stopped) });
    port.value = server.address[1];
    await done;
  } catch (error) {
    failure.value = String((error as Error).message ?? error).slice(0, 500);
    port.value = -1;
    throw error;
  }
}

export interface QueueProxy<T = any> {
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
export interface DictProxy<V = any> {
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
export interface ListProxy<T = any> {
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
export interface LockProxy {
  acquire(options?: { block?: boolean; timeout?: number }): Promise<boolean>;
  release(): Promise<void>;
  locked(): Promise<boolean>;
}
export interface SemaphoreProxy {
  acquire(options?: { block?: boolean; timeout?: number }): Promise<boolean>;
  release(n?: number): Promise<void>;
  getValue(): Promise<number>;
}
export interface EventProxy {
  set(): Promise<void>;
  clear(): Promise<void>;
  isSet(): Promise<boolean>;
  wait(options?: { timeout?: number }): Promise<boolean>;
}
export interface ConditionProxy extends LockProxy {
  wait(options?: { timeout?: number }): Promise<boolean>;
  notify(n?: number): Promise<void>;
  notifyAll(): Promise<void>;
}
export interface BarrierProxy {
  wait(options?: { timeout?: number }): Promise<number>;
  abort(): Promise<void>;
  reset(): Promise<void>;
  readonly parties: Promise<number>;
  readonly nWaiting: Promise<number>;
  readonly broken: Promise<boolean>;
}
export interface ValueProxy<T = any> {
  get(): Promise<T>;
  set(value: T): Promise<void>;
  /** Reading gives a Promise; assigning sends the write (in order with later calls). */
  get value(): Promise<T>;
  set value(value: T);
}
export interface ArrayProxy<T = any> {
  get(index: number): Promise<T>;
  set(index: number, value: T): Promise<void>;
  len(): Promise<number>;
  copy(): Promise<T[]>;
  slice(start?: number, end?: number): Promise<T[]>;
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
  /** Python: manager.Semaphore(value) */
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
  /** Python: manager.Barrier(parties, timeout=None); an action cannot cross to the server. */
  Barrier(parties: number, options: { timeout?: number } = {}): Promise<BarrierProxy> {
    return this.create('Barrier', parties, options);
  }
  /** Python: manager.Queue(maxsize) */
  Queue<T = any>(maxsize = 0): Promise<QueueProxy<T>> {
    return this.create('Queue', maxsize);
  }
  /** Python: manager.JoinableQueue(maxsize) */
  JoinableQueue<T = any>(maxsize = 0): Promise<QueueProxy<T>> {
    return this.create('JoinableQueue', maxsize);
  }
  /** Python: manager.Value(typecode, value) */
  Value<T = any>(typecode: string, value: T): Promise<ValueProxy<T>> {
    return this.create('Value', typecode, value);
  }
  /** Python: manager.Array(typecode, sequence) */
  Array<T = any>(typecode: string, sizeOrInit: number | T[]): Promise<ArrayProxy<T>> {
    return this.create('Array', typecode, sizeOrInit);
  }
}

for (const [typeid, factory] of Object.entries(builtinTypes)) registryOf(SyncManager).set(typeid, { callable: factory });

/** Starts a SyncManager in its own process: `await using manager = await Manager()`. Python: multiprocessing.Manager() */
export async function Manager(options: BaseManagerOptions = {}): Promise<SyncManager> {
  return new SyncManager(options).start();
}
