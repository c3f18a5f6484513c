// The manager's server: accepts TCP connections, authenticates each (wire.ts), then serves create,
// call and shutdown requests on the objects it holds (objects.ts, or what BaseManager.register made).
// Its own types keep values as v8 data (it never revives what a client sent); a user's typeid gets live
// values, as Python's server unpickles them. A client that goes away has its waits cancelled and its
// locks released. Node's modules only.
import { createServer, type Server, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { serialize } from 'node:v8';
import { dataFrameReader, serverHandshake, writeDataFrame, AUTH_TIMEOUT_MS, REPLY_ERROR, REPLY_PROXY, REPLY_VALUE } from './wire';
import { decodeData, decodeWithAsync, encodeValue, managerRef, tokenOfData, type ObjectToken, type ReferenceReviver } from './codec';
import { encodeThrown } from '../serialize';
import { AttributeError } from '../errors';
import { reduceSymbol, type ReducedObject } from '../reduction';
import { readTimeout } from '../timeouts';
import { isReporting } from '../telemetry';
import { served } from './report';
import { performance } from 'node:perf_hooks';
import {
  ArrayObject,
  BarrierObject,
  ConditionObject,
  DictObject,
  EventObject,
  ListObject,
  LockObject,
  NamespaceObject,
  QueueObject,
  SemaphoreObject,
  ValueObject,
  type Caller,
  type Served,
} from './objects';
import { poolTypes } from './pool';

/** Makes the object behind a typeid, in the server. */
export type Factory = (...args: unknown[]) => unknown;

/** How the server serves one typeid. Python: the server's registry entry (callable, exposed, method_to_typeid) */
export interface TypeSpec {
  /** Makes the object; absent for a typeid only ever returned by a method (`create: false`). */
  factory?: Factory;
  /** The methods a proxy may call; default the object's public methods. */
  exposed?: readonly string[];
  /** Methods whose result is served as an object of the named typeid and returned as a proxy. */
  methodToTypeid?: Readonly<Record<string, string>>;
  /** A user's typeid: its methods get live values (runtime objects, functions), not the server's data. */
  custom?: boolean;
}

function queueSize(options: unknown, where: string): number {
  if (options === undefined || options === null) return 0;
  const maxsize = typeof options === 'number' ? options : typeof options === 'object' ? ((options as { maxsize?: unknown }).maxsize ?? 0) : options;
  if (typeof maxsize !== 'number' || !Number.isInteger(maxsize)) throw new TypeError(`${where}: maxsize must be an integer, as in { maxsize: 2 }`);
  return maxsize;
}

function count(value: unknown, where: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`${where}: expected an integer, got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`);
  return value;
}

/** The typeids every SyncManager serves, each checking its arguments as the local class does. Python: SyncManager's registry */
export const builtinTypes: Record<string, Factory> = {
  dict: (init) => new DictObject(init),
  list: (init) => new ListObject(init),
  Namespace: (init) => new NamespaceObject(init),
  Lock: () => new LockObject(false),
  RLock: () => new LockObject(true),
  Semaphore: (value) => new SemaphoreObject(count(value, 'Semaphore()', 1)),
  BoundedSemaphore: (value) => new SemaphoreObject(count(value, 'BoundedSemaphore()', 1), true),
  Condition: (lock) => {
    if (lock !== undefined && lock !== null && !(lock instanceof LockObject))
      throw new TypeError('Condition(lock): lock must be a Lock or RLock of the same manager');
    return new ConditionObject(lock ?? undefined);
  },
  Event: () => new EventObject(),
  Barrier: (parties, options) => {
    if ((options as { action?: unknown } | undefined)?.action !== undefined)
      throw new TypeError("Barrier(): a manager's Barrier cannot run an action in the manager process; run it in the waiter that gets index 0");
    return new BarrierObject(count(parties, 'Barrier()', 0), readTimeout(options, 'Barrier()'));
  },
  Queue: (options) => new QueueObject(queueSize(options, 'Queue()')),
  JoinableQueue: (options) => new QueueObject(queueSize(options, 'JoinableQueue()'), true),
  Value: (typecode, value) => new ValueObject(typecode, value),
  Array: (typecode, init) => new ArrayObject(typecode, init),
};

/** A server's registry of SyncManager's types. */
export function builtinRegistry(): Record<string, TypeSpec> {
  const registry: Record<string, TypeSpec> = Object.create(null) as Record<string, TypeSpec>;
  for (const [typeid, factory] of Object.entries(builtinTypes)) registry[typeid] = { factory };
  Object.assign(registry, poolTypes);
  return registry;
}

/** The most connections allowed to sit in the handshake at once; past it the oldest is dropped, never the newest. */
const MAX_PRE_AUTH = 64;

export interface ServerOptions {
  host?: string;
  port?: number;
  authkey: Buffer;
  registry: Record<string, TypeSpec>;
  authTimeout?: number;
  /** Called after a client asked the server to shut down. */
  onShutdown?: () => void;
}

interface Request {
  op: 'create' | 'call' | 'getvalue' | 'release' | 'shutdown';
  typeid?: unknown;
  oid?: unknown;
  method?: unknown;
  args?: unknown;
  /** The caller's id for this call, when it reports it to the hub in detail (report.ts). */
  trace?: unknown;
}

interface Entry {
  object: unknown;
  typeid: string;
  exposed: ReadonlySet<string>;
}

function isServed(value: unknown): value is Served {
  return typeof value === 'object' && value !== null && (value as Served).exposed instanceof Set;
}

/** An object's public methods (own and inherited, not starting with `_`), as Python's `public_methods`. */
export function publicMethods(target: unknown): string[] {
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) return [];
  const names = new Set<string>();
  for (let o: object | null = target as object; o && o !== Object.prototype && o !== Function.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name.startsWith('_') || name === 'constructor' || names.has(name)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(o, name);
      if (descriptor && typeof descriptor.value === 'function') names.add(name);
    }
  }
  return [...names];
}

function isClass(fn: Function): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** A proxy of this server received by a user's typeid: it crosses back as the same proxy. */
class ServerRef {
  constructor(readonly token: ObjectToken) {}
  [reduceSymbol](): ReducedObject {
    return managerRef(this.token);
  }
}

/** The server side of a manager. Python: multiprocessing.managers.Server */
export class ManagerServer implements ReferenceReviver {
  readonly #server: Server;
  readonly #options: ServerOptions;
  readonly #objects = new Map<string, Entry>();
  readonly #sockets = new Set<Socket>();
  /** Connections still in the handshake, oldest first. */
  readonly #preAuth = new Set<Socket>();

  private constructor(options: ServerOptions) {
    this.#options = options;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  /** Starts listening; `port` 0 (the default) picks a free port on 127.0.0.1. */
  static listen(options: ServerOptions): Promise<ManagerServer> {
    const server = new ManagerServer(options);
    return new Promise((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.#server.off('error', reject);
        resolve(server);
      });
    });
  }

  /** `[host, port]` clients connect to. */
  get address(): [string, number] {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('the manager server is not listening');
    return [address.address, address.port];
  }

  /**
   * The listening end: `listener.close()` stops taking connections and frees the port, with `address` kept
   * for a new manager to listen at. Python: Server.listener
   */
  get listener(): { readonly address: [string, number]; close(): void } {
    const address = this.address;
    return { address, close: () => void this.#server.close() };
  }

  /** Lets an idle server stop keeping its process alive (a manager inside a user's program). */
  unref(): void {
    this.#server.unref();
  }

  /** Stops listening and drops every connection. */
  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    socket.setNoDelay(true);
    // Python's Listener answers each connection's challenge on its own; here a flood of idle connections
    // costs its own oldest members, so a client with the key always gets its turn.
    if (this.#preAuth.size >= MAX_PRE_AUTH) {
      const oldest = this.#preAuth.values().next().value!;
      this.#preAuth.delete(oldest);
      oldest.destroy();
    }
    this.#preAuth.add(socket);
    this.#sockets.add(socket);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#preAuth.delete(socket);
    });
    socket.on('error', () => {});
    serverHandshake(socket, this.#options.authkey, this.#options.authTimeout ?? AUTH_TIMEOUT_MS).then(
      () => {
        this.#preAuth.delete(socket);
        this.#serve(socket);
      },
      () => {
        this.#preAuth.delete(socket);
        socket.end();
        setTimeout(() => socket.destroy(), 100).unref();
      },
    );
  }

  #serve(socket: Socket): void {
    const owner = randomUUID();
    const abort = new AbortController();
    const caller: Caller = { owner, signal: abort.signal };
    const reader = dataFrameReader(
      (id, _kind, body) => {
        let request: Request;
        try {
          request = decodeData(body) as Request;
        } catch (error) {
          return reader.fail(error as Error);
        }
        // Anything but a request object is a peer we do not understand: drop it, as a framing error.
        if (typeof request !== 'object' || request === null || typeof request.op !== 'string') return reader.fail(new Error('not a request'));
        void this.#handle(id, request, caller, socket);
      },
      () => socket.destroy(),
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('close', () => {
      abort.abort();
      for (const { object } of this.#objects.values()) if (isServed(object)) object.dropOwner?.(owner);
    });
  }

  async #handle(id: number, request: Request, caller: Caller, socket: Socket): Promise<void> {
    let kind = REPLY_VALUE;
    let body: Buffer;
    const report = isReporting() && (request.op === 'call' || request.op === 'create' || request.op === 'getvalue') ? this.#beginServe(request) : undefined;
    try {
      const result = await this.#perform(request, caller);
      if (result instanceof NewObject) {
        kind = REPLY_PROXY;
        body = serialize(result.token);
      } else body = encodeValue(result, `${describe(request)} result`);
    } catch (error) {
      kind = REPLY_ERROR;
      body = serialize(encodeThrown(error));
    }
    if (report) served(report.manager, report.typeid, report.method, report.id, report.start, performance.now() - report.t0, kind === REPLY_ERROR);
    if (!socket.destroyed) writeDataFrame(socket, id, kind, body);
    if (request.op === 'shutdown') setImmediate(() => this.#options.onShutdown?.());
  }

  /** What the hub is told of a call this server handles: the caller's id when it detailed the call. */
  #beginServe(request: Request): { manager: string; typeid: string; method: string; id?: string; start: number; t0: number } {
    let manager = '?';
    try {
      manager = this.address.join(':');
    } catch {
      // closed meanwhile
    }
    const typeid =
      request.op === 'create' ? String(request.typeid) : ((typeof request.oid === 'string' ? this.#objects.get(request.oid)?.typeid : undefined) ?? '?');
    const method = request.op === 'call' ? String(request.method) : request.op;
    const trace = typeof request.trace === 'string' && request.trace.length <= 64 ? request.trace : undefined;
    return { manager, typeid, method, ...(trace !== undefined ? { id: trace } : {}), start: Date.now(), t0: performance.now() };
  }

  async #perform(request: Request, caller: Caller): Promise<unknown> {
    const args = Array.isArray(request.args) ? (request.args as unknown[]) : [];
    switch (request.op) {
      case 'create': {
        const typeid = String(request.typeid);
        const spec = Object.hasOwn(this.#options.registry, typeid) ? this.#options.registry[typeid] : undefined;
        if (!spec) throw new TypeError(`this manager has no typeid ${JSON.stringify(typeid)}`);
        const factory = spec.factory;
        if (!factory) throw new TypeError(`typeid ${JSON.stringify(typeid)} has no creation method: it is only returned by other methods`);
        const resolved = (spec.custom ? ((await decodeWithAsync(args, this)) as unknown[]) : args).map((a) => this.#resolve(a));
        // Python's register() takes a class or a function; a JavaScript class needs `new`.
        const object = isClass(factory) ? new (factory as unknown as new (...a: unknown[]) => unknown)(...resolved) : await factory(...resolved);
        return this.#add(object, typeid, spec);
      }
      case 'call': {
        const entry = this.#entry(request.oid);
        const method = String(request.method);
        if (!entry.exposed.has(method)) throw attributeError(entry, method);
        const { object } = entry;
        const spec = this.#options.registry[entry.typeid];
        const typeid = spec?.methodToTypeid?.[method];
        let result: unknown;
        if (isServed(object) && !spec?.custom) {
          result = await (object as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(caller, ...args);
        } else {
          const fn = (object as Record<string, unknown>)[method];
          if (typeof fn !== 'function') throw new TypeError(`'${method}' of a ${entry.typeid} object is not a method`);
          result = fn.apply(object, (await decodeWithAsync(args, this)) as unknown[]);
          // A result served as another typeid is the object itself, even a thenable one (a Pool's AsyncResult).
          if (typeid === undefined || result instanceof Promise) result = await result;
        }
        if (typeid === undefined) return result;
        const resultSpec = Object.hasOwn(this.#options.registry, typeid) ? this.#options.registry[typeid] : undefined;
        if (!resultSpec) throw new TypeError(`methodToTypeid names typeid ${JSON.stringify(typeid)}, which this manager does not have`);
        return this.#add(result, typeid, resultSpec);
      }
      case 'getvalue': {
        const { object } = this.#entry(request.oid);
        return isServed(object) && typeof (object as { copy?: unknown }).copy === 'function'
          ? (object as unknown as { copy(c: Caller): unknown }).copy(caller)
          : object;
      }
      case 'release':
        if (typeof request.oid === 'string') this.#objects.delete(request.oid);
        return null;
      case 'shutdown':
        return null;
      default:
        throw new TypeError(`unknown request ${JSON.stringify(request.op)}`);
    }
  }

  #entry(oid: unknown): Entry {
    const entry = typeof oid === 'string' ? this.#objects.get(oid) : undefined;
    if (!entry) throw new ReferenceError(`no object ${String(oid)} in this manager`);
    return entry;
  }

  #add(object: unknown, typeid: string, spec: TypeSpec): NewObject {
    const oid = randomUUID();
    const exposed = spec.exposed ?? (isServed(object) ? [...object.exposed] : publicMethods(object));
    this.#objects.set(oid, { object, typeid, exposed: new Set(exposed) });
    return new NewObject({ oid, typeid, exposed: [...exposed] });
  }

  /** A proxy given as an argument to create() means the object it names (Condition(lock)). */
  #resolve(arg: unknown): unknown {
    const token = arg instanceof ServerRef ? arg.token : tokenOfData(arg);
    const entry = token ? this.#objects.get(token.oid) : undefined;
    return entry ? entry.object : arg;
  }

  /** A reference decoded for a user's typeid: the same proxy when it crosses back. */
  revive(token: ObjectToken): unknown {
    return new ServerRef(token);
  }
}

/** A new object in this server, answered as a proxy token. */
class NewObject {
  constructor(readonly token: ObjectToken) {}
}

function describe(request: Request): string {
  return request.op === 'call' ? `${String(request.method)}()` : `${request.op}()`;
}

function attributeError(entry: Entry, method: string): AttributeError {
  return new AttributeError(`method '${method}' of ${entry.typeid} object is not in exposed=[${[...entry.exposed].map((name) => `'${name}'`).join(', ')}]`);
}
