// multiprocessing.connection's Listener and Client: Connections over a Unix socket (the default, in a
// fresh 0700 directory), a Windows named pipe, or TCP (loopback unless asked otherwise), opened with the
// manager's HMAC challenge both ways when an authkey is given. Node's modules plus connection.ts,
// socketEnd.ts and the manager's handshake (managers/wire.ts).
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { held } from './broker/broker';
import { LocalWaiter, Fifo } from './broker/waiters';
import { created } from './broker/report';
import { clientHandshake, serverHandshake } from './managers/wire';
import { AuthenticationError, errnoError, OSError, ValueError } from './errors';
import { Connection } from './connection';
import { SocketEnd } from './socketEnd';

/** `[host, port]` for TCP, or a Unix socket path / Windows pipe name (`\\.\pipe\…`). */
export type ConnectionAddress = [host: string, port: number] | string;

/** Python's address families; only checked against the address, or used to pick a default one. */
export type Family = 'AF_INET' | 'AF_UNIX' | 'AF_PIPE';

/** Options of a Listener. */
export interface ListenerOptions {
  /** Where to listen; `[host, 0]` picks a free port. @default a fresh Unix socket (a named pipe on Windows), or ['127.0.0.1', 0] with family 'AF_INET' */
  address?: ConnectionAddress;
  /** The kind of address to make up when none is given. */
  family?: Family;
  /** How many connections may wait to be accepted. @default 1 */
  backlog?: number;
  /** A secret both sides prove they hold (HMAC on a fresh nonce each way); none: no authentication. */
  authkey?: Uint8Array | string;
}

/** Options of Client(). */
export interface ClientOptions {
  family?: Family;
  /** The Listener's secret; none: no authentication. */
  authkey?: Uint8Array | string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
/** The one byte a client sends once it has checked the listener: nothing the listener sends can then mix into the handshake. */
const READY = 0x01;

function keyOf(authkey: Uint8Array | string | undefined): Buffer | undefined {
  if (authkey === undefined || authkey === null) return undefined;
  if (typeof authkey === 'string') return Buffer.from(authkey, 'utf8');
  if (authkey instanceof Uint8Array) return Buffer.from(authkey);
  throw new TypeError(`authkey should be a Buffer, a Uint8Array or a string, not ${typeof authkey}`);
}

function checkAddress(address: unknown, family: Family | undefined): ConnectionAddress {
  if (typeof address === 'string' && address.length > 0) {
    if (family === 'AF_INET') throw new ValueError(`address ${JSON.stringify(address)} is not an AF_INET [host, port]`);
    // Python: a named pipe (\\.\pipe\…) is AF_PIPE, which only Windows has; elsewhere it is a ValueError, not a socket file.
    if (address.startsWith('\\\\.\\') && process.platform !== 'win32')
      throw new ValueError(`Family AF_PIPE is not recognized: ${address} is a Windows named pipe`);
    return address;
  }
  if (
    Array.isArray(address) &&
    address.length === 2 &&
    typeof address[0] === 'string' &&
    Number.isInteger(address[1]) &&
    address[1] >= 0 &&
    address[1] <= 65535
  ) {
    if (family !== undefined && family !== 'AF_INET') throw new ValueError(`address [${address[0]}, ${address[1]}] is not of family ${family}`);
    return [address[0], address[1]];
  }
  throw new TypeError(`address must be [host, port] or a socket path, got ${JSON.stringify(address)}`);
}

/** A private address of `family`, as Python's arbitrary_address(). */
function arbitraryAddress(family: Family | undefined): { address: ConnectionAddress; dir?: string } {
  if (family === 'AF_INET') return { address: ['127.0.0.1', 0] };
  if (family === 'AF_PIPE' && process.platform !== 'win32') throw new ValueError('Family AF_PIPE is not recognized: named pipes are Windows only');
  if (family === 'AF_PIPE' || process.platform === 'win32') return { address: `\\\\.\\pipe\\forkscope-listener-${randomBytes(8).toString('hex')}` };
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-listener-'));
  return { address: join(dir, 'socket'), dir };
}

/** Node's connect/listen errors as Python's classes (ConnectionRefusedError, FileNotFoundError…). */
function pythonError(error: NodeJS.ErrnoException): Error {
  return errnoError(error) ?? error;
}

function osError(message: string): Error {
  return new OSError(message);
}

/** What accept() hands out next: a connection that passed the handshake, or why one did not. */
type Accepted = { conn: Connection; from: ConnectionAddress } | { error: Error };

/**
 * Listens for Client() connections; accept() resolves with a Connection that works like a Pipe's end.
 * Python: multiprocessing.connection.Listener
 */
export class Listener {
  readonly #server: net.Server;
  readonly #key: Buffer | undefined;
  readonly #dir: string | undefined;
  readonly #listening: Promise<void>;
  readonly #ready = new Fifo<Accepted>();
  readonly #acceptors = new Fifo<LocalWaiter<Accepted>>();
  readonly #sockets = new Set<net.Socket>();
  #address: ConnectionAddress;
  #lastAccepted: ConnectionAddress | null = null;
  #closed = false;

  /** `new Listener(address?, options?)` or `new Listener({ address, authkey, … })`. */
  constructor(address?: ConnectionAddress | ListenerOptions, options: ListenerOptions = {}) {
    const opts: ListenerOptions =
      address !== undefined && !Array.isArray(address) && typeof address === 'object'
        ? address
        : { ...options, address: address as ConnectionAddress | undefined };
    this.#key = keyOf(opts.authkey);
    const made = opts.address === undefined ? arbitraryAddress(opts.family) : { address: checkAddress(opts.address, opts.family) };
    this.#address = made.address;
    this.#dir = made.dir;
    const backlog = opts.backlog ?? 1;
    if (!Number.isInteger(backlog) || backlog < 0) throw new TypeError(`backlog must be a whole number, got ${String(backlog)}`);
    if (typeof this.#address !== 'string' && !LOOPBACK.has(this.#address[0])) {
      process.emitWarning(
        `forkscope: a Listener at ${this.#address[0]} is reachable beyond this machine${this.#key ? '; only the authkey protects it' : ' and has no authkey'}`,
        { code: 'FORKSCOPE_LISTENER_ADDRESS' },
      );
    }
    this.#server = net.createServer((socket) => this.#connected(socket));
    this.#listening = new Promise<void>((resolve, reject) => {
      this.#server.once('error', (error) => reject(pythonError(error as NodeJS.ErrnoException)));
      const address = this.#address;
      const onListening = () => {
        const bound = this.#server.address();
        if (bound && typeof bound === 'object' && typeof address !== 'string') this.#address = [address[0], bound.port];
        resolve();
      };
      if (typeof address === 'string') this.#server.listen({ path: address, backlog }, onListening);
      else this.#server.listen({ host: address[0], port: address[1], backlog }, onListening);
    });
    // A failed listen is reported by accept() (and create()), never as an unhandled rejection.
    this.#listening.catch(() => undefined);
    // An idle listener never keeps the program alive; a pending accept() does.
    this.#server.unref();
    created('Pipe');
  }

  /** Resolves once listening, so `address` holds the port picked for `[host, 0]`. */
  static async create(address?: ConnectionAddress | ListenerOptions, options?: ListenerOptions): Promise<Listener> {
    const listener = new Listener(address, options);
    await held(listener.#listening);
    return listener;
  }

  /** Where it listens: the socket path, or `[host, port]` (the real port once listening). Python: Listener.address */
  get address(): ConnectionAddress {
    return typeof this.#address === 'string' ? this.#address : [...this.#address];
  }

  /** Where the latest accepted connection came from (`[host, port]`, or '' over a Unix socket); null before any. Python: Listener.last_accepted */
  get lastAccepted(): ConnectionAddress | null {
    return this.#lastAccepted;
  }

  /** Authenticates each connection as it arrives, so a slow accept() never times a client out. */
  #connected(socket: net.Socket): void {
    if (this.#closed) return void socket.destroy();
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const from: ConnectionAddress = socket.remoteAddress ? [socket.remoteAddress, socket.remotePort ?? 0] : '';
    const key = this.#key;
    if (!key) return this.#deliver({ conn: this.#open(socket), from });
    serverHandshake(socket, key)
      .then(() => readyByte(socket))
      .then(
        (leftover) => this.#deliver({ conn: this.#open(socket, leftover), from }),
        (error: Error) => {
          socket.destroy();
          this.#deliver({ error: error instanceof AuthenticationError ? error : new AuthenticationError(error.message) });
        },
      );
  }

  #open(socket: net.Socket, leftover?: Buffer): Connection {
    this.#sockets.delete(socket);
    return new Connection(new SocketEnd(socket, leftover), true, true, created('Pipe'));
  }

  #deliver(accepted: Accepted): void {
    if (this.#closed) {
      if ('conn' in accepted) accepted.conn.close();
      return;
    }
    for (let a = this.#acceptors.shift(); a; a = this.#acceptors.shift()) {
      if (a.done) continue;
      return a.settle(accepted);
    }
    this.#ready.push(accepted);
  }

  /** Resolves with the next connection; rejects AuthenticationError when its peer failed the handshake. Python: Listener.accept */
  async accept(): Promise<Connection> {
    if (this.#closed) throw osError('the listener is closed');
    await held(this.#listening);
    let next = this.#ready.shift();
    if (!next && this.#closed) throw osError('the listener is closed');
    if (!next) {
      const waiter = new LocalWaiter<Accepted>();
      this.#acceptors.push(waiter);
      next = await held(waiter.promise);
    }
    if ('error' in next) throw next.error;
    this.#lastAccepted = next.from;
    return next.conn;
  }

  /** Stops listening (removing its socket file); connections already accepted stay open. Python: Listener.close */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
    for (let a = this.#acceptors.shift(); a; a = this.#acceptors.shift()) a.fail(osError('the listener is closed'));
    for (let r = this.#ready.shift(); r; r = this.#ready.shift()) if ('conn' in r) r.conn.close();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

/** Reads the client's READY byte (nothing else can come before it); resolves with any bytes after it. */
function readyByte(socket: net.Socket): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      done();
      if (chunk.readUInt8(0) !== READY) reject(new AuthenticationError('the client did not confirm the handshake'));
      else resolve(chunk.subarray(1));
    };
    const onClose = () => {
      done();
      reject(new AuthenticationError('the connection closed during authentication'));
    };
    const done = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onClose);
  });
}

/** Connects to a Listener and proves the authkey both ways when one is given. Python: multiprocessing.connection.Client */
export async function Client(address: ConnectionAddress, options: ClientOptions = {}): Promise<Connection> {
  const target = checkAddress(address, options.family);
  const key = keyOf(options.authkey);
  const socket = await held(
    new Promise<net.Socket>((resolve, reject) => {
      const s = typeof target === 'string' ? net.connect({ path: target }) : net.connect({ host: target[0], port: target[1] });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', (error) => reject(pythonError(error as NodeJS.ErrnoException)));
    }),
  );
  if (key) {
    try {
      await held(clientHandshake(socket, key));
    } catch (error) {
      socket.destroy();
      throw error instanceof AuthenticationError ? error : new AuthenticationError((error as Error).message);
    }
    socket.write(Buffer.from([READY]));
  }
  return new Connection(new SocketEnd(socket), true, true, created('Pipe'));
}
