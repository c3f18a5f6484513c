// One per process (and per worker thread): serves the queues, pipes and locks this context owns on a
// private Unix socket, and keeps one connection per other context it talks to. Node's own modules only;
// it knows frames and peers, never what a queue or a lock is.
import * as net from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { FrameReader, encodeFrame, encodeHeader, type Frame } from './frame';
import { RING_BLOCK_BYTES, Ring } from './ring';
import { allocate, canShareWithProcesses, reduceBlock, reviveBlock, type BlockDescriptor } from '../shm/arena';
import { trackDirectory } from '../shm/lifeline';
import { deserialize, serialize } from 'node:v8';
import { BrokenPipeError } from '../errors';
import { decodeThrown, encodeError } from '../serialize';
import { ENV } from '../protocol';
import { FIRST_PUSH_OP, OP_DOORBELL, OP_ERROR, OP_HELLO, OP_REPLY, OP_RING } from './ops';
import { atExit } from '../atExit';

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
/** Acknowledged payloads (queue puts) below this size go through the connection's shared-memory ring. */
const RING_ITEM_LIMIT = 4 * 1024;
const RING_NONE = 0;
const RING_OFFERED = 1;
const RING_READY = 2;
const RING_OFF = 3;
/** A child may try to connect while its owner's listen() is still settling; retry briefly. */
const CONNECT_ATTEMPTS = 40;

function copyInto(target: Buffer, offset: number, payload: Uint8Array): void {
  target.set(payload, offset);
}

interface Outgoing {
  data: Buffer[];
  written?: (error?: Error | null) => void;
}

/** What waits for room in the ring: a put (`put` writes it, false while there is no room) or a frame behind one. */
interface Behind {
  put?: () => boolean;
  out?: Outgoing;
  resolve?: () => void;
  reject?: (error: Error) => void;
}

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
  /**
   * Our ring to the other side: small acknowledged frames are written there and resolve at once, since the
   * other side reads them even if this context dies next. Offered on first need, used once it is mapped.
   */
  #ring: Ring | undefined;
  #ringState = RING_NONE;
  /** The tail sent in our latest doorbell: ring frames past it are later than every socket frame sent. */
  #rung = 0;
  #doorbellScheduled = false;
  /** Polls for room while puts wait for it (the reader frees room silently, in shared memory). */
  #roomTimer: NodeJS.Timeout | undefined;
  /** Puts waiting for room in the ring, and the frames sent after them, in order. */
  #behind: Behind[] = [];
  #releaseBehind: (() => void) | undefined;
  /** The other side's ring to us, once it offered one. */
  #theirRing: Ring | undefined;
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
        else pending.reject(decodeThrown(deserialize(frame.payload)) as Error);
        return;
      }
      case OP_RING:
        try {
          const block = reviveBlock(JSON.parse(frame.payload.toString('utf8')) as BlockDescriptor);
          this.#theirRing = new Ring(block, 'reader');
          this.reply(frame.request);
        } catch (error) {
          this.fail(frame.request, error as Error);
        }
        return;
      case OP_DOORBELL:
        this.#theirRing?.take((ringFrame) => this.#dispatch(ringFrame), frame.payload.readUInt32BE(0));
        return;
      default:
        if (frame.op >= FIRST_PUSH_OP) this.#subscribers.get(frame.object)?.(frame);
        else this.#broker.served(frame.object)?.onFrame(this, frame);
    }
  }

  #write(out: Outgoing): void {
    const socket = this.#socket!;
    // Ring frames written before this socket frame must be taken before it: the doorbell says up to where.
    if (this.#ring !== undefined && this.#ring.tail !== this.#rung) this.#doorbell();
    // Try to hand the frame to the kernel now (libuv writes synchronously when it can), and if it all
    // went, say so at once instead of a loop turn later.
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

  /** Writes a frame now, queues it until the socket connects, or behind puts waiting for ring room. */
  #send(out: Outgoing): void {
    if (this.#behind.length > 0) this.#behind.push({ out });
    else if (this.#connected) this.#write(out);
    else this.#queued.push(out);
  }

  /** Sends a frame; `written` runs once it is in the kernel (or with an error when it cannot be). */
  send(object: number, op: number, payload: Uint8Array, request = 0, written?: (error?: Error | null) => void): void {
    if (this.#closed) {
      written?.(new BrokenPipeError(`the other side (${this.label}) has gone`));
      return;
    }
    const data =
      payload.byteLength < COPY_LIMIT
        ? [encodeFrame(op, object, request, payload)]
        : [encodeHeader(op, object, request, payload.byteLength), Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)];
    this.#send({ data, written });
  }

  /**
   * Sends a frame in order after everything sent before it, and resolves once it is sure to be delivered
   * even if this context dies next. A small frame goes into this connection's shared-memory ring, which
   * the other side reads even after we died: it resolves at once (or, when the ring is full, once the
   * reader made room: backpressure). Otherwise (a large frame, no ring yet, no shared memory the other
   * side can map) it resolves once the frame is in the kernel.
   */
  sendAcknowledged(object: number, op: number, payload: Uint8Array): Promise<void> {
    if (payload.byteLength < RING_ITEM_LIMIT && this.#ringReady()) return this.#ringPut(op, object, payload.byteLength, payload, copyInto);
    return this.#sendAcknowledged(object, op, payload);
  }

  /**
   * sendAcknowledged() of a payload that `write` encodes from `value` (`bytes` long), straight into the
   * ring when it goes there: a small put allocates nothing.
   */
  sendAcknowledgedWith<V>(object: number, op: number, value: V, bytes: number, write: (target: Buffer, offset: number, value: V) => void): Promise<void> {
    if (bytes < RING_ITEM_LIMIT && this.#ringReady()) return this.#ringPut(op, object, bytes, value, write);
    const payload = Buffer.allocUnsafe(bytes);
    write(payload, 0, value);
    return this.#sendAcknowledged(object, op, payload);
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

  /** True when our ring is mapped by the other side; offers one on first need where shared memory allows. */
  #ringReady(): boolean {
    if (this.#ringState === RING_READY) return !this.#closed;
    if (this.#ringState === RING_NONE && this.#connected && !this.#closed) this.#offerRing();
    return false;
  }

  /**
   * Offers the other side a ring: a block of our shm arena it maps by descriptor (the native binding; a
   * process's own threads reopen it the same way). Until its reply, puts go through the socket: a ring
   * the reader has not mapped yet would be lost with us.
   */
  #offerRing(): void {
    this.#ringState = RING_OFF;
    if (!canShareWithProcesses()) return;
    let ring: Ring;
    let descriptor: BlockDescriptor;
    try {
      const block = allocate(RING_BLOCK_BYTES);
      descriptor = reduceBlock(block, 'spawn', 'queue ring');
      ring = new Ring(block, 'writer');
    } catch {
      return;
    }
    this.#ringState = RING_OFFERED;
    this.request(0, OP_RING, Buffer.from(JSON.stringify(descriptor))).then(
      () => {
        if (this.#closed) return;
        this.#ring = ring;
        this.#rung = ring.tail;
        this.#ringState = RING_READY;
      },
      () => {
        this.#ringState = RING_OFF;
      },
    );
  }

  #ringPut<V>(op: number, object: number, bytes: number, value: V, write: (target: Buffer, offset: number, value: V) => void): Promise<void> {
    const ring = this.#ring!;
    if (this.#behind.length === 0 && ring.write(op, object, bytes, value, write)) {
      this.#scheduleDoorbell();
      return RESOLVED;
    }
    // No room: wait, in order, until the reader freed some (the process lives meanwhile).
    return new Promise<void>((resolve, reject) => {
      if (this.#behind.length === 0) this.#releaseBehind = this.#broker.hold();
      this.#behind.push({ put: () => ring.write(op, object, bytes, value, write), resolve, reject });
      if (ring.tail !== this.#rung) this.#doorbell();
      if (this.#roomTimer === undefined) this.#waitForRoom(1);
    });
  }

  #scheduleDoorbell(): void {
    if (this.#doorbellScheduled) return;
    this.#doorbellScheduled = true;
    // After this turn's microtasks: a producer awaiting put() in a loop fills the ring first.
    process.nextTick(this.#doorbellTick);
  }

  readonly #doorbellTick = (): void => {
    this.#doorbellScheduled = false;
    if (!this.#closed && this.#ring!.tail !== this.#rung) this.#doorbell();
  };

  /** Tells the reader to take the ring's frames up to its tail now. */
  #doorbell(): void {
    const tail = this.#ring!.tail;
    this.#rung = tail;
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(tail, 0);
    this.#write({ data: [encodeFrame(OP_DOORBELL, 0, 0, payload)] });
  }

  /**
   * Puts wait for room: look again soon, backing off to 50 ms while the reader takes nothing (a reader
   * paused at a breakpoint); the waiting puts go on in order, then the frames sent behind them.
   */
  #waitForRoom(delay: number): void {
    this.#roomTimer = setTimeout(() => {
      this.#roomTimer = undefined;
      if (this.#closed) return;
      const behind = this.#behind;
      const before = behind.length;
      while (behind.length > 0) {
        const next = behind[0]!;
        if (next.put) {
          if (!next.put()) break;
          behind.shift();
          next.resolve!();
        } else {
          behind.shift();
          this.#write(next.out!);
        }
      }
      if (this.#ring!.tail !== this.#rung) this.#doorbell();
      if (behind.length > 0) {
        this.#waitForRoom(behind.length < before ? 1 : Math.min(delay * 2, 50));
        return;
      }
      this.#releaseBehind?.();
      this.#releaseBehind = undefined;
    }, delay);
  }

  /** Sends a frame whose payload is the concatenation of `parts`, without copying them. */
  sendParts(object: number, op: number, parts: Uint8Array[], request: number, written?: (error?: Error | null) => void): void {
    if (this.#closed) {
      written?.(new BrokenPipeError(`the other side (${this.label}) has gone`));
      return;
    }
    const bytes = parts.reduce((n, p) => n + p.byteLength, 0);
    const data = [encodeHeader(op, object, request, bytes), ...parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))];
    this.#send({ data, written });
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
    // The runtime's one error codec (serialize.ts), as a pool worker's and a manager's errors cross.
    if (request !== 0) this.send(0, OP_ERROR, serialize(encodeError(error)), request);
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

  /** True once every frame sent so far has left this process (or the connection is gone). */
  get flushed(): boolean {
    if (this.#closed) return true;
    return this.#connected && this.#queued.length === 0 && this.#behind.length === 0 && (this.#socket?.writableLength ?? 0) === 0;
  }

  #close(): void {
    if (this.#closed) return;
    // What the other side put in its ring after its last doorbell came after all it sent on the socket:
    // taken now, before its close is handled, so every put that resolved there is delivered (kill -9 too).
    const theirs = this.#theirRing;
    this.#theirRing = undefined;
    try {
      theirs?.take((frame) => this.#dispatch(frame));
    } catch (error) {
      process.emitWarning(`forkscope: the ring from ${this.label} could not be read: ${(error as Error).message}`);
    }
    this.#closed = true;
    this.#ring = undefined;
    this.#socket?.destroy();
    const gone = new BrokenPipeError(`the other side (${this.pid ? this.label : this.address}) has gone`);
    for (const out of this.#queued.splice(0)) out.written?.(gone);
    for (const behind of this.#behind.splice(0)) {
      behind.reject?.(gone);
      behind.out?.written?.(gone);
    }
    this.#releaseBehind?.();
    this.#releaseBehind = undefined;
    clearTimeout(this.#roomTimer);
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
    atExit(() => rmSync(dir, { recursive: true, force: true }));
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

  /**
   * Resolves once every frame sent to any peer has left this process, or after `limitMs`: a child calls it
   * before it exits, so a last send (a notify(), a release) made while its connection was still being set up
   * is not lost with it.
   */
  async flush(limitMs: number): Promise<void> {
    const deadline = Date.now() + limitMs;
    const peers = () => [...this.#peers.values(), ...this.#anonymous];
    while (!peers().every((peer) => peer.flushed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
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
const IPC_DIR_ENV = ENV.ipcDir;

function programDir(): string {
  const inherited = process.env[IPC_DIR_ENV];
  if (inherited && existsSync(inherited)) return inherited;
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-'));
  process.env[IPC_DIR_ENV] = dir;
  atExit(() => rmSync(dir, { recursive: true, force: true }));
  // A root killed with SIGKILL runs no exit handler: the shared-memory watchdog removes the directory then.
  trackDirectory(dir);
  return dir;
}

let broker: Broker | undefined;

/** This context's broker, created on first use. */
export function getBroker(): Broker {
  return (broker ??= new Broker());
}

/** This context's broker if it was ever needed (so asking costs nothing when it was not). */
export function existingBroker(): Broker | undefined {
  return broker;
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
