// The skeleton every broker-served synchronization primitive shares, written once: the owner's state
// (Core, served over the broker, publishing one number for synchronous reads) and the handle each context
// holds (Backend: that very core in the creating context, a Remote to it elsewhere), with the one way to
// wait, read, share and revive. A primitive supplies only its Core and what its calls mean.
// Depends on the broker and the reduction contract only.
import { getBroker, held, type Peer, type Served } from '../broker/broker';
import type { Frame } from '../broker/frame';
import { Remote, type OwnerRef } from '../broker/remote';
import { ownSlots } from '../broker/slots';
import { LocalWaiter } from '../broker/waiters';
import { waiting } from '../broker/report';
import type { ObjectKind } from '../protocol';
import type { ShmLock } from '../shm/lock';
import type { TimeoutOptions } from '../timeouts';
import type { ShmSemaphore } from '../shm/semaphore';

/** A timeout given as `{ timeout }`, or as a bare number where Python takes the timeout first. */
export type WaitTimeout = number | null | TimeoutOptions;

/** Acquire outcomes on the wire. */
export const TIMED_OUT = 0;
export const ACQUIRED = 1;
export const ACQUIRED_OWNER_DIED = 2;

export const EMPTY = Buffer.alloc(0);

export function byte(value: number): Buffer {
  return Buffer.from([value]);
}

export function u32(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(value >>> 0, 0);
  return bytes;
}

/** Owner-side state shared by every sync kind: where it is served and the slot it publishes. */
export abstract class Core implements Served {
  index = 0;
  slot = -1;
  readonly id: string;
  readonly kind: ObjectKind;

  constructor(kind: ObjectKind, id: string) {
    this.kind = kind;
    this.id = id;
  }

  share(): OwnerRef {
    const address = getBroker().listen();
    if (this.index === 0) {
      this.index = getBroker().serve(this);
      this.slot = ownSlots().allocate(this.published());
    }
    return { address, index: this.index, slot: this.slot, id: this.id };
  }

  /** The value other contexts read synchronously. */
  protected abstract published(): number;

  /** That value as the owner reads it now (an Event's flag may have been written by another context). */
  current(): number {
    return this.published();
  }

  protected publish(): void {
    if (this.slot >= 0) ownSlots().write(this.slot, this.published());
  }

  abstract onFrame(peer: Peer, frame: Frame): void;
  abstract onPeerClosed(peer: Peer): void;
}

/**
 * One broker-served primitive as this context holds it: its owner's Core when this context created it,
 * else a Remote to the owner. Every branch between the two is here; a primitive says what a call does
 * locally and which op it sends otherwise.
 */
export class Backend<C extends Core> {
  readonly kind: ObjectKind;
  readonly #owner: C | Remote;

  constructor(kind: ObjectKind, owner: C | Remote) {
    this.kind = kind;
    this.#owner = owner;
  }

  /** The handle to an object served at `state`: its very core when the owner is this context. */
  static revive<C extends Core>(kind: ObjectKind, state: OwnerRef): Backend<C> {
    const broker = getBroker();
    const core = broker.isLocal(state.address) ? (broker.served(state.index) as C | undefined) : undefined;
    return new Backend<C>(kind, core ?? new Remote(state));
  }

  /** The program-wide id the hub knows the object by. */
  get id(): string {
    const owner = this.#owner;
    return (owner instanceof Remote ? owner.ref.id : owner.id) ?? this.kind;
  }

  /** Runs `owned` with the core in the owner, `remote` with the handle elsewhere. */
  on<R>(owned: (core: C) => R, remote: (remote: Remote) => R): R {
    const owner = this.#owner;
    return owner instanceof Remote ? remote(owner) : owned(owner);
  }

  /** The number the owner publishes, read synchronously: no message. */
  read(): number {
    const owner = this.#owner;
    return owner instanceof Remote ? owner.slot!.read() : owner.current();
  }

  /** What another context revives this object from. */
  ref(): OwnerRef {
    const owner = this.#owner;
    return owner instanceof Remote ? owner.ref : owner.share();
  }

  /** Waits for `wait`, reported as waiting on this object, keeping the process alive meanwhile. */
  async wait<R>(wait: Promise<R>): Promise<R> {
    const done = waiting({ id: this.id, kind: this.kind });
    try {
      return await held(wait);
    } finally {
      done();
    }
  }

  /**
   * Asks the owner and waits for its answer: in the owner `local` settles a waiter (a wait that settles at
   * once is not reported); elsewhere `op` goes out with `payload` and the reply is decoded.
   */
  call<R>(local: (core: C, waiter: LocalWaiter<R>) => void, op: number, payload: () => Uint8Array, decode: (reply: Buffer) => R): Promise<R> {
    const owner = this.#owner;
    if (owner instanceof Remote) return this.wait(owner.request(op, payload())).then(decode);
    const waiter = new LocalWaiter<R>();
    local(owner, waiter);
    return waiter.done ? waiter.promise : this.wait(waiter.promise);
  }

  /**
   * Tells the owner, without waiting: in the owner `local` runs; elsewhere `publish` (if given) is first
   * written to the published slot, so the change is visible everywhere at once, then `op` (if given) goes out.
   */
  tell(local: (core: C) => void, op: number | undefined, payload?: () => Uint8Array, publish?: number): void {
    const owner = this.#owner;
    if (!(owner instanceof Remote)) return local(owner);
    if (publish !== undefined) owner.slot!.write(publish);
    if (op !== undefined) owner.send(op, payload ? payload() : EMPTY);
  }
}

/**
 * @internal What a reviver hands a primitive's constructor: what the revived object wraps (a handle to its
 * owner, or its shared memory) instead of making its own.
 */
export class Revived {
  readonly backend?: Backend<Core>;
  readonly shm?: ShmLock;
  readonly sem?: ShmSemaphore;

  constructor(parts: { backend?: Backend<Core>; shm?: ShmLock; sem?: ShmSemaphore }) {
    this.backend = parts.backend;
    this.shm = parts.shm;
    this.sem = parts.sem;
  }

  /** The token for an object its owner serves at `state`. */
  static from(kind: ObjectKind, state: OwnerRef): Revived {
    return new Revived({ backend: Backend.revive(kind, state) });
  }
}
