// The owner's side of a wait: one shape for a wait in this context (a Promise) and a wait from another
// context (a reply on its connection), each with an optional timeout. Plus a FIFO with O(1) shift.
import type { Peer } from './broker';

export interface Waiter<T> {
  /** The context that waits, or undefined when it is this one. */
  readonly peer: Peer | undefined;
  settle(result: T): void;
  fail(error: Error): void;
  /** Ends the wait after `ms` (undefined: never) by calling `onTimeout`; cleared on settle or fail. */
  arm(ms: number | undefined, onTimeout: () => void): void;
  readonly done: boolean;
}

abstract class BaseWaiter<T> implements Waiter<T> {
  #timer: NodeJS.Timeout | undefined;
  done = false;
  abstract readonly peer: Peer | undefined;
  protected abstract deliver(result: T): void;
  protected abstract reject(error: Error): void;

  settle(result: T): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.#timer);
    this.deliver(result);
  }

  fail(error: Error): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.#timer);
    this.reject(error);
  }

  arm(ms: number | undefined, onTimeout: () => void): void {
    if (ms === undefined || this.done) return;
    this.#timer = setTimeout(onTimeout, Math.max(0, ms));
    // A remote wait keeps its own process alive, not the owner's.
    if (this.peer) this.#timer.unref();
  }
}

/** A wait in this context: settles a Promise. */
export class LocalWaiter<T> extends BaseWaiter<T> {
  readonly peer = undefined;
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: Error) => void;
  constructor() {
    super();
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }
  protected deliver(result: T): void {
    this.#resolve(result);
  }
  protected reject(error: Error): void {
    this.#reject(error);
  }
}

/** A wait from another context: answered on its connection. */
export class RemoteWaiter<T> extends BaseWaiter<T> {
  readonly peer: Peer;
  readonly #request: number;
  readonly #encode: (result: T) => Uint8Array;
  constructor(peer: Peer, request: number, encode: (result: T) => Uint8Array) {
    super();
    this.peer = peer;
    this.#request = request;
    this.#encode = encode;
  }
  protected deliver(result: T): void {
    this.peer.reply(this.#request, this.#encode(result));
  }
  protected reject(error: Error): void {
    this.peer.fail(this.#request, error);
  }
}

/** A FIFO whose shift() is O(1): queues hold hundreds of thousands of items. */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes every item matching `drop`, keeping order. */
  remove(drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as T;
      (drop(item) ? removed : kept).push(item);
    }
    this.#items = kept;
    this.#head = 0;
    return removed;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}

/** `{ block, timeout }` as 9 bytes: a flag, then the timeout in ms as a double (-1: none; a negative timeout is sent as 0, "do not wait"). */
export function encodeWait(block: boolean, timeout: number | undefined): Buffer {
  const bytes = Buffer.allocUnsafe(9);
  bytes.writeUInt8(block ? 1 : 0, 0);
  bytes.writeDoubleBE(timeout === undefined ? -1 : Math.max(0, timeout), 1);
  return bytes;
}

export function decodeWait(payload: Buffer): { block: boolean; timeout: number | undefined; rest: Buffer } {
  const timeout = payload.readDoubleBE(1);
  return { block: payload.readUInt8(0) === 1, timeout: timeout < 0 ? undefined : timeout, rest: payload.subarray(9) };
}
