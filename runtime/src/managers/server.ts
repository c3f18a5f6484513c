// The manager's server: accepts TCP connections, authenticates each (wire.ts), then serves create,
// call and shutdown requests on the objects it holds (objects.ts, or what BaseManager.register made).
// A client that goes away has its waits cancelled and its locks released. Node's modules only.
import { createServer, type Server, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { encodeFrame, FrameReader, FRAME_MAX, serverHandshake, AUTH_TIMEOUT_MS } from './wire';
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

/** Makes the object behind a typeid, in the server; its public methods become callable. */
export type Factory = (...args: unknown[]) => unknown;

/** The typeids every SyncManager serves. Python: SyncManager's registry */
export const builtinTypes: Record<string, Factory> = {
  dict: (init) => new DictObject(init),
  list: (init) => new ListObject(init),
  Namespace: (init) => new NamespaceObject(init),
  Lock: () => new LockObject(false),
  RLock: () => new LockObject(true),
  Semaphore: (value) => new SemaphoreObject(value ?? 1),
  BoundedSemaphore: (value) => new SemaphoreObject(value ?? 1, true),
  Condition: (lock) => new ConditionObject(lock instanceof LockObject ? lock : undefined),
  Event: () => new EventObject(),
  Barrier: (parties, options) => new BarrierObject(parties, options as { timeout?: number } | undefined),
  Queue: (maxsize) => new QueueObject(maxsize),
  JoinableQueue: (maxsize) => new QueueObject(maxsize, true),
  Value: (typecode, value) => new ValueObject(typecode, value),
  Array: (typecode, init) => new ArrayObject(typecode, init),
};

/** The most connections allowed to sit in the handshake at once (a flood of idle sockets is cut). */
const MAX_PRE_AUTH = 64;

export interface ServerOptions {
  host?: string;
  port?: number;
  authkey: Buffer;
  registry: Record<string, Factory>;
  authTimeout?: number;
  /** Called after a client asked the server to shut down. */
  onShutdown?: () => void;
}

interface Request {
  id: number;
  op: 'create' | 'call' | 'release' | 'shutdown';
  typeid?: string;
  oid?: string;
  method?: string;
  args?: unknown[];
}

function isServed(value: unknown): value is Served {
  return typeof value === 'object' && value !== null && (value as Served).exposed instanceof Set;
}

/** A custom object's callable methods: public functions of its class chain, as Python's `exposed` default. */
function publicMethod(target: object, name: string): ((...args: unknown[]) => unknown) | undefined {
  if (name.startsWith('_') || name === 'constructor') return undefined;
  for (let proto = Object.getPrototypeOf(target) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    if (descriptor) return typeof descriptor.value === 'function' ? (descriptor.value as (...args: unknown[]) => unknown) : undefined;
  }
  const own = Object.getOwnPropertyDescriptor(target, name);
  return own && typeof own.value === 'function' ? (own.value as (...args: unknown[]) => unknown) : undefined;
}

function isClass(fn: Function): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

function errorData(error: unknown): { name: string; message: string; stack?: string } {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

/** The server side of a manager. Python: multiprocessing.managers.Server */
export class ManagerServer {
  readonly #server: Server;
  readonly #options: ServerOptions;
  readonly #objects = new Map<string, unknown>();
  readonly #sockets = new Set<Socket>();
  #preAuth = 0;

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
    if (this.#preAuth >= MAX_PRE_AUTH) {
      socket.destroy();
      return;
    }
    this.#preAuth++;
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    serverHandshake(socket, this.#options.authkey, this.#options.authTimeout ?? AUTH_TIMEOUT_MS).then(
      () => {
        this.#preAuth--;
        this.#serve(socket);
      },
      () => {
        this.#preAuth--;
        socket.end();
        setTimeout(() => socket.destroy(), 100).unref();
      },
    );
  }

  #serve(socket: Socket): void {
    const owner = randomUUID();
    const abort = new AbortController();
    const caller: Caller = { owner, signal: abort.signal };
    const reply = (message: unknown): void => {
      if (!socket.destroyed) socket.write(encodeFrame(message));
    };
    const reader = new FrameReader(
      FRAME_MAX,
      (message) => void this.#handle(message as Request, caller, reply),
      () => socket.destroy(),
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('close', () => {
      abort.abort();
      for (const object of this.#objects.values()) if (isServed(object)) object.dropOwner?.(owner);
    });
  }

  async #handle(request: Request, caller: Caller, reply: (message: unknown) => void): Promise<void> {
    const id = typeof request?.id === 'number' ? request.id : -1;
    try {
      const value = await this.#perform(request, caller);
      reply({ id, ok: true, value: value === undefined ? null : value });
    } catch (error) {
      reply({ id, ok: false, error: errorData(error) });
    }
    if (request?.op === 'shutdown') setImmediate(() => this.#options.onShutdown?.());
  }

  async #perform(request: Request, caller: Caller): Promise<unknown> {
    const args = Array.isArray(request.args) ? request.args : [];
    switch (request.op) {
      case 'create': {
        const typeid = String(request.typeid);
        if (!Object.hasOwn(this.#options.registry, typeid)) throw new TypeError(`this manager has no typeid ${JSON.stringify(typeid)}`);
        const factory = this.#options.registry[typeid]!;
        const resolved = args.map((a) => this.#resolveRef(a));
        // Python's register() takes a class or a function; a JavaScript class needs `new`.
        const object = isClass(factory) ? new (factory as unknown as new (...a: unknown[]) => unknown)(...resolved) : await factory(...resolved);
        const oid = randomUUID();
        this.#objects.set(oid, object);
        return { oid, typeid };
      }
      case 'call': {
        const object = this.#objects.get(String(request.oid));
        if (object === undefined) throw new ReferenceError(`no object ${String(request.oid)} in this manager`);
        const method = String(request.method);
        if (isServed(object)) {
          if (!object.exposed.has(method)) throw attributeError(object, method);
          return await (object as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(caller, ...args);
        }
        const fn = typeof object === 'object' && object !== null ? publicMethod(object, method) : undefined;
        if (!fn) throw attributeError(object, method);
        return await fn.apply(object, args);
      }
      case 'release':
        this.#objects.delete(String(request.oid));
        return null;
      case 'shutdown':
        return null;
      default:
        throw new TypeError(`unknown request ${JSON.stringify(request.op)}`);
    }
  }

  /** A proxy given as an argument (`{ $proxy: { oid } }`) means the object it names. */
  #resolveRef(arg: unknown): unknown {
    const ref = (arg as { $proxy?: { oid?: unknown } } | null)?.$proxy;
    if (ref && typeof ref.oid === 'string' && this.#objects.has(ref.oid)) return this.#objects.get(ref.oid);
    return arg;
  }
}

function attributeError(object: unknown, method: string): Error {
  const error = new Error(`'${(object as object)?.constructor?.name ?? typeof object}' object has no exposed method '${method}'`);
  error.name = 'AttributeError';
  return error;
}
