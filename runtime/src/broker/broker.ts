// One per process (and per worker thread): serves the queues, pipes and locks this context owns on a
// private Unix socket, and keeps one connection per other context it talks to. Node's own modules only;
// it knows frames and peers, never what a queue or a lock is.
import * as net from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { FrameReader, HEADER_BYTES, encodeFrame, encodeHeader, writeHeaderInto, type Frame } from './frame';
import { BrokenPipeError, BrokenBarrierError, EOFError, Empty, Full, RemoteError, TimeoutError, ValueError } from '../errors';

/** Frame ops below 16 belong to the transport; 16–127 go to a served object; 128+ are pushes to a subscriber. */
export const OP_HELLO = 1;
export const OP_REPLY = 2;
export const OP_ERROR = 3;
export const FIRST_PUSH_OP = 128;

/** An object this context owns and serves to others. */
export interface Served {
  onFrame(peer: Peer, frame: Frame): void;
  /** The peer's connection closed: its waits end, what it held is released. */
  onPeerClosed(peer: Peer): void;
}

const EMPTY_BUFFER = Buffer.alloc(0);
const RESOLVED: Promise<void> = Promise.resolve();

/** Payloads at or above this size go out as header + payload (no copy); smaller ones as one buffer. */
const COPY_LIMIT = 64 * 1024;
/**
 * Small acknowledged frames (queue puts) are gathered into one buffer per connection and written when
 * it fills or at the end of the current tick: one system call for thousands of small items.
 */
const BATCH_BYTES = 64 * 1024;
/** Payloads at or above this size are written on their own, never batched. */
const BATCH_ITEM_LIMIT = 4 * 1024;
/** A child may try to connect while its owner's listen() is still settling; retry briefly. */
const CONNECT_ATTEMPTS = 40;

/** The socket's file descriptor, or -1 where it has none to write to directly. */
function socketFd(socket: net.Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}

/** Writes what the kernel takes now: the bytes written (0 when it has no room), -1 when the connection broke. */
function writeSome(fd: number, bytes: Buffer, offset: number, length: number): number {
  try {
    return writeSync(fd, bytes, offset, length);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EAGAIN' || code === 'EWOULDBLOCK' ? 0 : -1;
  }
}

function copyInto(target: Buffer, offset: number, payload: Uint8Array): void {
  target.set(payload, offset);
}

/** How long a process's exit waits for a stalled reader to take the puts it has resolved. */
const EXIT_FLUSH_MS = 30_000;
const EXIT_SLEEP = new Int32Array(new SharedArrayBuffer(4));

const errorClasses: Record<string, new (message: string) => Error> = {
  Empty, Full, EOFError, BrokenPipeError, BrokenBarrierError, TimeoutError, ValueError,
};

function errorFrom(payload: Buffer): Error {
  const { name, message } = JSON.parse(payload.toString('utf8')) as { name: string; message: string };
  const Class = Object.hasOwn(errorClasses, name) ? errorClasses[name] : undefined;
  return Class ? new Class(message) : new RemoteError(name, message);
}

interface Outgoing { data: Buffer[]; written?: (error?: Error | null) => void }

/** A connection to another context, usable in both directions. */
export class Peer {
  /** The other side's server address, or '' while it has none. */
  address = '';
  pid = 0;
  threadId = 0;
  #socket: net.Socket | undefined;
  #connected = false;
  #queued: Outgoing[] = [];
  #closed = false;
  #nextRequest = 1;
  #pending = new Map<number, { resolve: (payload: Buffer) => void; reject: (error: Error) => void }>();
  #subscribers = new Map<number, (frame: Frame) => void>();
  #closeListeners = new Set<() => void>();
  /** Frames batched by sendAcknowledged(), not yet handed to the socket: bytes [0, #batchUsed). */
  #batch: Buffer | undefined;
  #batchUsed = 0;
  #flushScheduled = false;
  /**
   * The part of a flushed batch the kernel did not take yet. It stays ours (never handed to the socket's
   * own queue), so that at exit it can still be written synchronously: its puts have resolved. Later
   * frames wait in #queued behind it.
   */
  #unsent: Buffer | undefined;
  #retry: NodeJS.Timeout | undefined;
  readonly #broker: Broker;

  constructor(broker: Broker, socket?: net.Socket) {
    this.#broker = broker;
    if (socket) this.#attach(socket);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Who the other side is, for messages: `pid 4711` or `pid 4711 thread 2`. */
  get label(): string {
    return this.threadId ? `pid ${this.pid} thread ${this.threadId}` : `pid ${this.pid}`;
  }

  connect(address: string, attempt = 0): void {
    this.address = address;
    const socket = net.createConnection(address);
    socket.unref();
    const onEarlyError = (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if ((error.code === 'ENOENT' || error.code === 'ECONNREFUSED') && attempt < CONNECT_ATTEMPTS) {
        setTimeout(() => this.connect(address, attempt + 1), 25 + attempt * 5).unref();
      } else this.#close();
    };
    socket.once('error', onEarlyError);
    socket.once('connect', () => {
      socket.off('error', onEarlyError);
      this.#attach(socket);
      this.sayHello();
      for (const out of this.#queued.splice(0)) this.#write(out);
    });
  }

  sayHello(): void {
    const hello = JSON.stringify({ address: this.#broker.listeningAddress ?? '', pid: process.pid, threadId });
    this.send(0, OP_HELLO, Buffer.from(hello));
  }

  #attach(socket: net.Socket): void {
    this.#socket = socket;
    this.#connected = true;
    socket.unref();
    socket.setNoDelay(true);
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, (frame) => this.#dispatch(frame));
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#close());
  }

  #dispatch(frame: Frame): void {
    switch (frame.op) {
      case OP_HELLO: {
        const hello = JSON.parse(frame.payload.toString('utf8')) as { address: string; pid: number; threadId: number };
        this.pid = hello.pid;
        this.threadId = hello.threadId;
        if (hello.address && hello.address !== this.address) {
          this.address = hello.address;
          this.#broker.adopt(this);
        }
        return;
      }
      case OP_REPLY:
      case OP_ERROR: {
        const pending = this.#pending.get(frame.request);
        if (!pending) return;
        this.#pending.delete(frame.request);
        if (frame.op === OP_REPLY) pending.resolve(frame.payload);
        else pending.reject(errorFrom(frame.payload));
        return;
      }
      default:
        if (frame.op >= FIRST_PUSH_OP) this.#subscribers.get(frame.object)?.(frame);
        else this.#broker.served(frame.object)?.onFrame(this, frame);
    }
  }

  #write(out: Outgoing): void {
    const socket = this.#socket!;
    if (this.#batchUsed > 0) this.#flushBatch(); // batched frames were sent first: they go first
    if (this.#unsent !== undefined) {
      this.#queued.push(out); // behind what the kernel had no room for yet
      return;
    }
    // Nothing waiting before us: try to hand the frame to the kernel now (libuv writes synchronously
    // when it can), and if it all went, say so at once instead of a loop turn later.
    const direct = out.written !== undefined && socket.writableLength === 0;
    const callback = direct ? undefined : out.written;
    if (out.data.length === 1) socket.write(out.data[0]!, callback);
    else {
      socket.cork();
      for (let i = 0; i < out.data.length - 1; i++) socket.write(out.data[i]!);
      socket.write(out.data[out.data.length - 1]!, callback);
      socket.uncork();
    }
    if (!direct) return;
    if (socket.writableLength === 0) out.written!();
    else socket.write(EMPTY_BUFFER, out.written); // the rest is queued: report when it drains
  }

  /** Sends a frame; `written` runs once it is in the kernel (or with an error when it cannot be). */
  send(object: number, op: number, payload: Uint8Array, request = 0, written?: (error?: Error | null) => void): void {
    if (this.#closed) {
      written?.(new BrokenPipeError(`the other side (${this.label}) has gone`));
      return;
    }
    const data = payload.byteLength < COPY_LIMIT
      ? [encodeFrame(op, object, request, payload)]
      : [encodeHeader(op, object, request, payload.byteLength), Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)];
    const out: Outgoing = { data, written };
    if (this.#connected && this.#unsent === undefined) this.#write(out);
    else this.#queued.push(out);
  }

  /**
   * Sends a frame in order after everything sent before it. A small frame on a connection that is keeping
   * up resolves at once (a shared resolved Promise): it is in this connection's batch, which goes to the
   * kernel whole when it fills, at the end of this tick, or, at the latest, synchronously at exit. Otherwise
   * (a large frame, a connection not open yet or backed up) it resolves once the frame is in the kernel,
   * which holds a fast sender back to its reader's pace.
   */
  sendAcknowledged(object: number, op: number, payload: Uint8Array): Promise<void> {
    if (this.#batchable(payload.byteLength)) {
      this.#append(op, object, payload.byteLength, payload, copyInto);
      return RESOLVED;
    }
    return this.#sendAcknowledged(object, op, payload);
  }

  /**
   * sendAcknowledged() of a payload that `write` encodes from `value` (`bytes` long), straight into the
   * batch when it goes there: a small put allocates nothing.
   */
  sendAcknowledgedWith<V>(object: number, op: number, value: V, bytes: number, write: (target: Buffer, offset: number, value: V) => void): Promise<void> {
    if (this.#batchable(bytes)) {
      this.#append(op, object, bytes, value, write);
      return RESOLVED;
    }
    const payload = Buffer.allocUnsafe(bytes);
    write(payload, 0, value);
    return this.#sendAcknowledged(object, op, payload);
  }

  /** A small frame on an open connection that is keeping up (nothing of ours or the socket's waiting). */
  #batchable(bytes: number): boolean {
    return bytes < BATCH_ITEM_LIMIT && this.#connected && !this.#closed && this.#unsent === undefined && this.#socket!.writableLength === 0;
  }

  #sendAcknowledged(object: number, op: number, payload: Uint8Array): Promise<void> {
    let now = false;
    let failure: Error | undefined;
    let settle: ((error?: Error | null) => void) | undefined;
    this.send(object, op, payload, 0, (error) => {
      if (settle) settle(error);
      else if (error) failure = error;
      else now = true;
    });
    if (now) return RESOLVED;
    if (failure) return Promise.reject(failure);
    return new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
  }

  #append<V>(op: number, object: number, payloadBytes: number, value: V, write: (target: Buffer, offset: number, value: V) => void): void {
    const bytes = HEADER_BYTES + payloadBytes;
    if (this.#batchUsed + bytes > BATCH_BYTES) this.#flushBatch();
    const batch = (this.#batch ??= Buffer.allocUnsafeSlow(BATCH_BYTES));
    const at = this.#batchUsed;
    writeHeaderInto(batch, at, op, object, 0, payloadBytes);
    write(batch, at + HEADER_BYTES, value);
    this.#batchUsed = at + bytes;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // After this turn's microtasks: a producer awaiting put() in a loop fills the batch first.
      process.nextTick(this.#flushTick);
    }
  }

  readonly #flushTick = (): void => {
    this.#flushScheduled = false;
    if (this.#batchUsed > 0 && !this.#closed) this.#flushBatch();
  };

  /**
   * Hands the batch to the kernel: at once, by a write of our own when the socket's fd is reachable (the
   * usual case; the buffer is then reused), what it did not take kept in #unsent and retried shortly.
   * Only when nothing is queued in the socket (#append's condition), so bytes stay in order.
   */
  #flushBatch(): void {
    const socket = this.#socket!;
    const used = this.#batchUsed;
    const batch = this.#batch!;
    this.#batchUsed = 0;
    if (this.#unsent !== undefined) {
      // The put that filled the batch found it open; the kernel had no room for the previous one yet.
      this.#unsent = Buffer.concat([this.#unsent, batch.subarray(0, used)]);
      return;
    }
    const fd = socketFd(socket);
    if (fd < 0 || socket.writableLength > 0) {
      socket.write(batch.subarray(0, used)); // no fd to write to (not a Unix socket): the socket's own path
      this.#batch = undefined;
      return;
    }
    const written = writeSome(fd, batch, 0, used);
    if (written < 0) return; // the connection broke: its close follows
    if (written === used) return;
    this.#unsent = batch.subarray(written, used);
    this.#batch = undefined;
    this.#retryUnsent();
  }

  /**
   * The reader is behind: try again soon (a ref'd timer, so the process lives until its puts are out),
   * backing off to 50 ms while it takes nothing (a reader paused at a breakpoint).
   */
  #retryUnsent(delay = 1): void {
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      const unsent = this.#unsent;
      if (unsent === undefined || this.#closed) return;
      const fd = socketFd(this.#socket!);
      const written = writeSome(fd, unsent, 0, unsent.length);
      if (written < 0) return;
      if (written < unsent.length) {
        this.#unsent = unsent.subarray(written);
        this.#retryUnsent(written === 0 ? Math.min(delay * 2, 50) : 1);
        return;
      }
      this.#unsent = undefined;
      for (const out of this.#queued.splice(0)) {
        if (this.#unsent !== undefined) this.#queued.push(out);
        else this.#write(out);
      }
    }, delay);
  }

  /**
   * At exit, writes what puts that have resolved left behind (a batch waiting for the end of its tick, a
   * part the reader had no room for yet, and the frames queued behind it), synchronously, giving the
   * reader a moment to make room.
   */
  flushAtExit(): void {
    if (this.#closed || (this.#unsent === undefined && this.#batchUsed === 0)) return;
    const socket = this.#socket!;
    const fd = socketFd(socket);
    const parts: Buffer[] = [];
    if (this.#unsent !== undefined) parts.push(this.#unsent);
    if (this.#batchUsed > 0) parts.push(this.#batch!.subarray(0, this.#batchUsed));
    for (const out of this.#queued.splice(0)) parts.push(...out.data);
    this.#unsent = undefined;
    this.#batchUsed = 0;
    if (fd < 0 || socket.writableLength > 0) return;
    // Bounded (no hang, ever), but long: a reader paused at a breakpoint is not a dead one.
    const deadline = Date.now() + EXIT_FLUSH_MS;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      let offset = 0;
      while (offset < part.length) {
        const written = writeSome(fd, part, offset, part.length - offset);
        if (written < 0) return; // the reader has gone: nothing left to deliver to
        offset += written;
        if (offset === part.length) break;
        if (Date.now() > deadline) {
          const lost = parts.slice(i).reduce((n, p) => n + p.length, -offset);
          const note = Buffer.from(`forkscope: ${lost} bytes to ${this.label} were not read within ${EXIT_FLUSH_MS / 1000} s of exit and are lost\n`);
          writeSome(2, note, 0, note.length);
          return;
        }
        Atomics.wait(EXIT_SLEEP, 0, 0, 1); // let the reader catch up
      }
    }
  }

  /** Sends a frame whose payload is the concatenation of `parts`, without copying them. */
  sendParts(object: number, op: number, parts: Uint8Array[], request: number, written?: (error?: Error | null) => void): void {
    if (this.#closed) {
      written?.(new BrokenPipeError(`the other side (${this.label}) has gone`));
      return;
    }
    const bytes = parts.reduce((n, p) => n + p.byteLength, 0);
    const data = [encodeHeader(op, object, request, bytes), ...parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))];
    const out: Outgoing = { data, written };
    if (this.#connected && this.#unsent === undefined) this.#write(out);
    else this.#queued.push(out);
  }

  /** Sends a request to a served object and resolves with its reply payload. */
  request(object: number, op: number, payload: Uint8Array = Buffer.alloc(0)): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new BrokenPipeError(`the owner (${this.label || this.address}) has gone`));
    const request = this.#nextRequest++;
    if (this.#nextRequest > 0xffff_fff0) this.#nextRequest = 1;
    return new Promise<Buffer>((resolve, reject) => {
      this.#pending.set(request, { resolve, reject });
      this.send(object, op, payload, request);
    });
  }

  reply(request: number, payload: Uint8Array = Buffer.alloc(0)): void {
    if (request !== 0) this.send(0, OP_REPLY, payload, request);
  }

  fail(request: number, error: Error): void {
    if (request !== 0) this.send(0, OP_ERROR, Buffer.from(JSON.stringify({ name: error.name, message: error.message })), request);
  }

  /** Receives the pushes a served object sends to its users here. */
  subscribe(object: number, onPush: (frame: Frame) => void): () => void {
    this.#subscribers.set(object, onPush);
    return () => {
      if (this.#subscribers.get(object) === onPush) this.#subscribers.delete(object);
    };
  }

  onClose(listener: () => void): () => void {
    if (this.#closed) {
      queueMicrotask(listener);
      return () => {};
    }
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  destroy(): void {
    this.#socket?.destroy();
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#batchUsed = 0;
    this.#unsent = undefined;
    clearTimeout(this.#retry);
    this.#socket?.destroy();
    const gone = new BrokenPipeError(`the other side (${this.pid ? this.label : this.address}) has gone`);
    for (const out of this.#queued.splice(0)) out.written?.(gone);
    for (const pending of this.#pending.values()) pending.reject(gone);
    this.#pending.clear();
    this.#broker.forget(this);
    for (const listener of [...this.#closeListeners]) listener();
    this.#closeListeners.clear();
  }
}

/** This context's broker: its server (started on first need) and its peers. */
export class Broker {
  #server: net.Server | undefined;
  #dir: string | undefined;
  #address: string | undefined;
  #served = new Map<number, Served>();
  #nextObject = 1;
  #peers = new Map<string, Peer>();
  #anonymous = new Set<Peer>();
  #holds = 0;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor() {
    // Batched puts still waiting for the end of their tick leave with the process.
    process.once('exit', () => {
      for (const peer of [...this.#peers.values(), ...this.#anonymous]) peer.flushAtExit();
    });
  }

  /** The server's address, or undefined before anything here was shared. */
  get listeningAddress(): string | undefined {
    return this.#address;
  }

  /** Starts the server on first need: a Unix socket in a fresh 0700 directory, unref'd. */
  listen(): string {
    if (this.#address) return this.#address;
    this.#dir = mkdtempSync(join(programDir(), 'b-'));
    this.#address = join(this.#dir, 's');
    const server = net.createServer((socket) => {
      const peer = new Peer(this, socket);
      this.#anonymous.add(peer);
    });
    server.on('error', (error) => process.emitWarning(`forkscope: object server failed: ${error.message}`));
    server.listen(this.#address);
    server.unref();
    this.#server = server;
    const dir = this.#dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    // Peers met before this context had an address learn it, so they can reach its pipe ends.
    for (const peer of [...this.#peers.values(), ...this.#anonymous]) peer.sayHello();
    return this.#address;
  }

  /** Registers an object this context owns; returns its index in this context. */
  serve(object: Served): number {
    const index = this.#nextObject++;
    this.#served.set(index, object);
    return index;
  }

  served(index: number): Served | undefined {
    return this.#served.get(index);
  }

  unserve(index: number): void {
    this.#served.delete(index);
  }

  /** True when `address` is this context's own server. */
  isLocal(address: string): boolean {
    return address === this.#address;
  }

  /** The connection to the context listening at `address`, opened on first use. */
  peer(address: string): Peer {
    let peer = this.#peers.get(address);
    if (!peer || peer.closed) {
      peer = new Peer(this);
      this.#peers.set(address, peer);
      peer.connect(address);
    }
    return peer;
  }

  /** An accepted connection said where it listens: later sends to that address reuse it. */
  adopt(peer: Peer): void {
    this.#anonymous.delete(peer);
    const existing = this.#peers.get(peer.address);
    if (!existing || existing.closed) this.#peers.set(peer.address, peer);
  }

  forget(peer: Peer): void {
    this.#anonymous.delete(peer);
    if (this.#peers.get(peer.address) === peer) this.#peers.delete(peer.address);
    for (const served of this.#served.values()) served.onPeerClosed(peer);
  }

  /** Keeps the process alive while a wait is pending; idle objects never do. Returns the release. */
  hold(): () => void {
    if (this.#holds++ === 0) this.#keepAlive = setInterval(() => {}, 1 << 30);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#holds === 0) {
        clearInterval(this.#keepAlive);
        this.#keepAlive = undefined;
      }
    };
  }

  /** Closes the server and every connection (tests and shutdown). */
  close(): void {
    for (const peer of [...this.#peers.values(), ...this.#anonymous]) peer.destroy();
    this.#server?.close();
    this.#server = undefined;
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#address = undefined;
    this.#dir = undefined;
  }
}

/** Children put their sockets under the program's directory, so the root's exit removes what a killed child left. */
const IPC_DIR_ENV = 'FORKSCOPE_IPC_DIR';

function programDir(): string {
  const inherited = process.env[IPC_DIR_ENV];
  if (inherited && existsSync(inherited)) return inherited;
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-'));
  process.env[IPC_DIR_ENV] = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let broker: Broker | undefined;

/** This context's broker, created on first use. */
export function getBroker(): Broker {
  return (broker ??= new Broker());
}

/** Runs `wait` holding the process alive until it settles. */
export async function held<T>(wait: Promise<T>): Promise<T> {
  const release = getBroker().hold();
  try {
    return await wait;
  } finally {
    release();
  }
}
