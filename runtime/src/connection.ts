// Pipe(), Connection and connection.wait(): the public face. Each copy of an end receives into its own
// mailbox (pipe/end.ts); senders write straight to the process holding the other end's newest copy, not
// through the creator, which only keeps the directory of copies (pipe/directory.ts). Depends on the
// broker and reduction.
import { Socket } from 'node:net';
import { getBroker, held } from './broker/broker';
import { Remote, type OwnerRef } from './broker/remote';
import type { Message } from './broker/mailbox';
import { created, PipeTraffic, waiting } from './broker/report';
import { decodeIfItem, decodeItem, encodeItem } from './broker/codec';
import { BufferTooShort, EOFError, OSError, ValueError } from './errors';
import { readTimeout, type TimeoutOptions } from './timeouts';
import { Client, Listener } from './listener';
import { answerChallenge, deliverChallenge } from './challenge';
import { reduceSymbol, registerReviver, type ReducedObject, type TransferContext } from './reduction';
import { deserializeReduced, holdsReducible, serializeReducing } from './serialize';
import { PipeDirectory } from './pipe/directory';
import { newCopyId, PipeEnd, type EndState } from './pipe/end';

export type { EndState } from './pipe/end';

const KIND_OBJECT = 0;
const KIND_BYTES = 1;
/** An object holding runtime objects (a Connection, a Queue…): they cross as descriptors, as pickle reduces them. */
const KIND_REDUCED = 2;
/** Set on a message's kind when its body starts with its message id for the hub's trace (one byte of length, ASCII). */
const KIND_TRACED = 0x80;

// ---- the public face ------------------------------------------------------------------------

/** What a Connection reads and writes through: a copy of a Pipe's end, or a Listener/Client socket. */
export interface Endpoint {
  send(kind: number, body: Uint8Array): Promise<void>;
  /** The next message, or undefined at end of file. */
  take(): Message | undefined | Promise<Message | undefined>;
  poll(timeout: number | null): Promise<boolean>;
  watch(timeout: number | null): { promise: Promise<boolean>; cancel: () => void };
  close(): void;
  /** What another process revives a copy of this end from; throws when it cannot cross. */
  duplicate(context: TransferContext): EndState;
}

/** One end of a pipe: send()/recv() structured-cloneable objects, or raw bytes. Python: multiprocessing.connection.Connection */
export class Connection {
  readonly #end: Endpoint;
  readonly #readable: boolean;
  readonly #writable: boolean;
  readonly #id: string;
  /** What this copy sent and received, reported by this context (so the hub sees the pipe's ends). */
  #traffic: PipeTraffic | undefined;

  /** @internal Made by Pipe() or revived; not constructed by users. */
  constructor(end: Endpoint, readable = true, writable = true, id = '') {
    this.#end = end;
    this.#readable = readable;
    this.#writable = writable;
    this.#id = id;
  }

  get readable(): boolean {
    return this.#readable;
  }

  get writable(): boolean {
    return this.#writable;
  }

  /** True once close() was called here. Python: Connection.closed */
  get closed(): boolean {
    return this.#closedHere;
  }
  #closedHere = false;

  #check(writing: boolean): void {
    if (this.#closedHere) throw new OSError('handle is closed');
    if (writing && !this.#writable) throw new OSError('connection is read-only');
    if (!writing && !this.#readable) throw new OSError('connection is write-only');
  }

  /** Sends a structured-cloneable object; resolves once it is on its way (awaiting it gives backpressure). Python: Connection.send */
  send(obj: unknown): Promise<void> {
    this.#check(true);
    // A Connection (or queue, lock…) inside crosses as a copy, held by this process until it is received.
    const reduced = holdsReducible(obj);
    const body = reduced ? serializeReducing(obj as object, 'obj') : encodeItem(obj);
    const traffic = (this.#traffic ??= new PipeTraffic(this.#id));
    const id = traffic.traceId();
    traffic.sent(body.length, obj, false, id);
    return quiet(this.#end.send((reduced ? KIND_REDUCED : KIND_OBJECT) | (id === undefined ? 0 : KIND_TRACED), traced(body, id)));
  }

  /** Sends raw bytes, or the `size` bytes from `offset` (a slice past the end is a ValueError, as Python's). Python: Connection.send_bytes */
  sendBytes(buf: Uint8Array, offset = 0, size?: number): Promise<void> {
    this.#check(true);
    const [start, length] = sliceOf(buf, offset, size);
    const body = Buffer.from(buf.buffer, buf.byteOffset + start, length);
    const traffic = (this.#traffic ??= new PipeTraffic(this.#id));
    const id = traffic.traceId();
    traffic.sent(body.length, body, true, id);
    return quiet(this.#end.send(KIND_BYTES | (id === undefined ? 0 : KIND_TRACED), traced(body, id)));
  }

  async #take(): Promise<Message> {
    this.#check(false);
    const now = this.#end.take();
    let message: Message | undefined;
    if (now instanceof Promise) {
      const done = waiting({ id: this.#id, kind: 'Pipe' });
      try {
        message = await held(now);
      } finally {
        done();
      }
    } else message = now;
    if (!message) throw new EOFError();
    if (message.kind & KIND_TRACED) {
      const length = message.body[0]!;
      const id = Buffer.from(message.body.buffer, message.body.byteOffset + 1, length).toString('latin1');
      message = { kind: message.kind & ~KIND_TRACED, body: message.body.subarray(1 + length) };
      (this.#traffic ??= new PipeTraffic(this.#id)).received(message.body.length, id);
    } else (this.#traffic ??= new PipeTraffic(this.#id)).received(message.body.length);
    return message;
  }

  /** Resolves with the next object (bytes that sendBytes() sent come back as bytes); rejects EOFError once every copy of the other end is closed. Python: Connection.recv */
  async recv<T = unknown>(): Promise<T> {
    const message = await this.#take();
    if (message.kind === KIND_REDUCED) return deserializeReduced(message.body) as T;
    if (message.kind !== KIND_BYTES) return decodeItem(message.body) as T;
    // Bytes that a send() made, relayed by recvBytes()/sendBytes(), are that object again (Python: a
    // pickle is bytes); other bytes come back as bytes.
    const relayed = decodeIfItem(message.body);
    return (relayed ? relayed.value : message.body) as T;
  }

  /** Resolves with the next message's bytes; rejects EOFError at end of file. Python: Connection.recv_bytes */
  async recvBytes(maxlength?: number): Promise<Buffer> {
    const message = await this.#take();
    if (maxlength !== undefined && message.body.length > maxlength) throw new OSError('bad message length');
    return message.kind === KIND_BYTES ? message.body : Buffer.from(message.body);
  }

  /**
   * Resolves with the next message's bytes copied into `buffer` from byte `offset`, and their count;
   * rejects BufferTooShort (holding the whole message) when they do not fit. Python: Connection.recv_bytes_into
   */
  async recvBytesInto(buffer: ArrayBufferView | ArrayBuffer, offset = 0): Promise<number> {
    const target = ArrayBuffer.isView(buffer)
      ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
      : buffer instanceof ArrayBuffer
        ? new Uint8Array(buffer)
        : undefined;
    if (!target) throw new TypeError('recvBytesInto() takes a typed array, a Buffer, a DataView or an ArrayBuffer');
    if (!Number.isInteger(offset)) throw new TypeError(`offset must be an integer, got ${String(offset)}`);
    if (offset < 0) throw new ValueError('negative offset');
    if (offset > target.byteLength) throw new ValueError('offset too large');
    const message = await this.#take();
    const size = message.body.length;
    if (offset + size > target.byteLength) throw new BufferTooShort(Buffer.from(message.body));
    target.set(message.body, offset);
    return size;
  }

  /**
   * True when a message is waiting (or the other end closed); waits up to `timeout` ms (`poll(100)`
   * or `poll({ timeout: 100 })`), null for ever. @default 0 Python: Connection.poll
   */
  poll(timeout: number | null | TimeoutOptions = 0): Promise<boolean> {
    this.#check(false);
    let ms: number | undefined;
    try {
      // Python's default is 0 ("do not wait"), and None waits for ever: `{}` keeps the default.
      ms = typeof timeout === 'object' && timeout !== null && timeout.timeout === undefined ? 0 : readTimeout(timeout, 'Connection.poll', true);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#end.poll(ms ?? null);
  }

  /** Closes this copy; the other end sees EOFError once every copy of this end is closed. Python: Connection.close */
  close(): void {
    if (this.#closedHere) return;
    this.#closedHere = true;
    this.#end.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** A Connection crosses as a new copy of its end: closing this one afterwards never affects it. */
  [reduceSymbol](context: TransferContext): ReducedObject {
    if (this.#closedHere) throw new OSError('handle is closed');
    const state = { ...this.#end.duplicate(context), readable: this.#readable, writable: this.#writable, id: this.#id };
    return { kind: 'Connection', state };
  }

  /** @internal For connection.wait(). */
  get end(): Endpoint {
    return this.#end;
  }
}

/** Python's checks of send_bytes(buf, offset, size): `[start, length]` inside `buf`, or a ValueError. */
function sliceOf(buf: Uint8Array, offset: number, size: number | undefined): [number, number] {
  if (!Number.isInteger(offset)) throw new TypeError(`offset must be an integer, got ${String(offset)}`);
  if (size !== undefined && !Number.isInteger(size)) throw new TypeError(`size must be an integer, got ${String(size)}`);
  const n = buf.byteLength;
  if (offset < 0) throw new ValueError('offset is negative');
  if (n < offset) throw new ValueError('buffer length < offset');
  if (size === undefined) return [offset, n - offset];
  if (size < 0) throw new ValueError('size is negative');
  if (offset + size > n) throw new ValueError('buffer length < offset + size');
  return [offset, size];
}

/** A send nobody awaits must not crash the program; a later send or recv reports the problem. */
function quiet(promise: Promise<void>): Promise<void> {
  promise.catch(() => {});
  return promise;
}

/** A copy of an end, revived from what duplicate() made: attached to its directory, here or at the creator. */
registerReviver('Connection', (reduced) => {
  const state = reduced as EndState;
  const directory = getBroker().isLocal(state.address) ? (getBroker().served(state.index) as PipeDirectory | undefined) : undefined;
  const remote = directory ? undefined : new Remote({ address: state.address, index: state.index, slot: -1 } satisfies OwnerRef);
  const end = new PipeEnd(state.end, state.copy, directory, remote);
  if (!directory) end.attach();
  return new Connection(end, state.readable, state.writable, state.id);
});

/** Two connected ends; with `duplex: false`, `[receiver, sender]`. Python: multiprocessing.Pipe */
export function Pipe(options: { duplex?: boolean } = {}): [Connection, Connection] {
  const duplex = options.duplex ?? true;
  const id = created('Pipe');
  const directory = new PipeDirectory();
  const a = new PipeEnd(0, newCopyId(true), directory, undefined);
  const b = new PipeEnd(1, newCopyId(true), directory, undefined);
  a.setRoute(directory.routeTo(1));
  return [new Connection(a, true, duplex, id), new Connection(b, duplex, true, id)];
}

/** What connection.wait() watches: a Connection, a socket (net.Socket), or a process's `sentinel`. */
export type Waitable = Connection | Socket | Promise<unknown>;

/** Per socket: one lasting 'readable' listener (adding and removing one per wait would lose wake-ups). */
const socketWatchers = new WeakMap<Socket, Set<() => void>>();

function socketReady(socket: Socket): boolean {
  const state = (socket as unknown as { _readableState?: { ended?: boolean } })._readableState;
  return socket.readableLength > 0 || socket.readableEnded || socket.destroyed || state?.ended === true;
}

function watchSocket(socket: Socket, wake: () => void): () => void {
  let wakers = socketWatchers.get(socket);
  if (!wakers) {
    const all = new Set<() => void>();
    wakers = all;
    socketWatchers.set(socket, all);
    const fire = () => {
      for (const w of [...all]) w();
    };
    socket.on('readable', fire);
    socket.on('end', fire);
    socket.on('close', fire);
  }
  wakers.add(wake);
  return () => wakers.delete(wake);
}

/** Settled sentinels (and other promises): a promise cannot be asked whether it has settled. */
const settledPromises = new WeakSet<Promise<unknown>>();
const trackedPromises = new WeakSet<Promise<unknown>>();

function trackPromise(promise: Promise<unknown>): void {
  if (trackedPromises.has(promise)) return;
  trackedPromises.add(promise);
  const settled = () => void settledPromises.add(promise);
  promise.then(settled, settled);
}

function isSocket(value: unknown): value is Socket {
  return value instanceof Socket;
}

/**
 * Resolves with the objects that are ready, or [] after `{ timeout }` ms: a Connection with a message
 * (or end of file), a socket with data (or end of file), a process's `sentinel` once it ended.
 * Python: multiprocessing.connection.wait
 */
export async function wait<T extends Waitable>(objects: readonly T[], options?: TimeoutOptions): Promise<T[]> {
  const timeout = readTimeout(options, 'connection.wait');
  for (const o of objects) {
    if (o instanceof Promise) trackPromise(o);
    else if (!(o instanceof Connection) && !isSocket(o))
      throw new TypeError(`connection.wait() takes Connections, sockets and process sentinels, not ${o === null ? 'null' : typeof o}`);
  }
  // One turn of the event loop lets an already settled sentinel be seen as settled.
  if (objects.some((o) => o instanceof Promise)) await new Promise<void>((r) => setImmediate(r));
  const ready = async () => {
    const flags = await Promise.all(
      objects.map((o) => (o instanceof Connection ? o.poll(0) : o instanceof Promise ? settledPromises.has(o) : socketReady(o as Socket))),
    );
    return objects.filter((_, i) => flags[i]);
  };
  const now = await ready();
  if (now.length > 0 || objects.length === 0) return now;
  if (timeout !== undefined && timeout !== null && timeout <= 0) return [];
  // Every object is watched; the first that is ready (or the timeout) ends the wait and cancels the rest.
  const cancels: (() => void)[] = [];
  const watches = objects.map((o): Promise<boolean> => {
    if (o instanceof Connection) {
      const w = o.end.watch(timeout ?? null);
      cancels.push(w.cancel);
      return w.promise;
    }
    if (o instanceof Promise)
      return o.then(
        () => true,
        () => true,
      );
    return new Promise<boolean>((resolve) => cancels.push(watchSocket(o as Socket, () => socketReady(o as Socket) && resolve(true))));
  });
  let timer: NodeJS.Timeout | undefined;
  if (timeout !== undefined && timeout !== null) watches.push(new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeout))));
  try {
    const any = await held(Promise.race(watches));
    return any ? ready() : [];
  } finally {
    clearTimeout(timer);
    for (const cancel of cancels) cancel();
  }
}

export { Client, Listener, type ClientOptions, type ConnectionAddress, type ListenerOptions } from './listener';
export { deliverChallenge, answerChallenge, type ChallengeConnection } from './challenge';

/** `connection.wait` under Python's module name, with Listener, Client and the challenge functions. */
export const connection = { wait, Connection, Pipe, Listener, Client, deliverChallenge, answerChallenge };

/** `body` with message id `id` in front (KIND_TRACED), or `body` itself without one. */
function traced(body: Uint8Array, id: string | undefined): Uint8Array {
  if (id === undefined) return body;
  const out = Buffer.allocUnsafe(1 + id.length + body.length);
  out[0] = id.length;
  out.write(id, 1, 'latin1');
  out.set(body, 1 + id.length);
  return out;
}
