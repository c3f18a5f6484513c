// Lock and RLock: a word of shared memory every process and thread takes and releases itself (shm/lock.ts)
// wherever the native binding loads; otherwise the creating context owns it (LockCore) and the others ask
// over its broker socket. A holder that dies holding it hands it on, the next taker told `ownerDied`.
import type { Peer } from '../broker/broker';
import type { Frame } from '../broker/frame';
import { OP_ACQUIRE, OP_RELEASE } from '../broker/ops';
import { contextId, type OwnerRef } from '../broker/remote';
import { flushSlots } from '../broker/slots';
import { Fifo, RemoteWaiter, decodeWait, encodeWait, type Waiter } from '../broker/waiters';
import { created, syncOp } from '../broker/report';
import { RuntimeError, ValueError } from '../errors';
import { reduceSymbol, registerReviver, reviveObject, type ReducedObject, type TransferContext } from '../reduction';
import { acquireTimeout, ShmLock, type AcquireOptions } from '../shm/lock';
import { canShareWithProcesses } from '../shm/arena';
import { ACQUIRED, ACQUIRED_OWNER_DIED, Backend, byte, Core, Revived, TIMED_OUT, u32 } from './backend';

export type { AcquireOptions } from '../shm/lock';

interface Holder {
  context: string;
  peer: Peer | undefined;
  count: number;
}

class LockCore extends Core {
  readonly reentrant: boolean;
  #holder: Holder | undefined;
  #ownerDied = false;
  readonly #waiters = new Fifo<{ context: string; waiter: Waiter<number>; count: number }>();

  constructor(kind: 'Lock' | 'RLock', id: string) {
    super(kind, id);
    this.reentrant = kind === 'RLock';
  }

  get locked(): boolean {
    return this.#holder !== undefined;
  }

  /** How many times `context` holds it (0: not at all). */
  heldBy(context: string): number {
    return this.#holder?.context === context ? this.#holder.count : 0;
  }

  protected published(): number {
    return this.#holder ? 1 : 0;
  }

  /** Fast path for this context: takes a free lock at once; undefined when it must wait. */
  tryAcquire(context: string, peer: Peer | undefined, count = 1): number | undefined {
    const holder = this.#holder;
    if (holder && this.reentrant && holder.context === context && holder.peer === peer) {
      holder.count += count;
      return ACQUIRED;
    }
    if (holder) return undefined;
    this.#holder = { context, peer, count };
    const outcome = this.#ownerDied ? ACQUIRED_OWNER_DIED : ACQUIRED;
    this.#ownerDied = false;
    this.publish();
    syncOp(this.id, outcome === ACQUIRED ? 'acquire' : 'ownerDied', context);
    return outcome;
  }

  acquire(context: string, block: boolean, timeout: number | undefined, waiter: Waiter<number>, count = 1): void {
    const now = this.tryAcquire(context, waiter.peer, count);
    if (now !== undefined) return waiter.settle(now);
    if (!block) return waiter.settle(TIMED_OUT);
    const entry = { context, waiter, count };
    this.#waiters.push(entry);
    syncOp(this.id, 'wait', this.#holder?.context ?? null);
    waiter.arm(timeout, () => {
      this.#waiters.remove((e) => e === entry);
      syncOp(this.id, 'timeout', this.#holder?.context ?? null);
      waiter.settle(TIMED_OUT);
    });
  }

  /** Releases `count` levels; returns an error message instead of throwing, for remote callers. */
  release(context: string, count = 1): string | undefined {
    const holder = this.#holder;
    if (!holder) return this.reentrant ? 'cannot release un-acquired lock' : 'release unlocked lock';
    if (this.reentrant && holder.context !== context) return 'cannot release un-acquired lock';
    holder.count -= count;
    if (holder.count > 0) return undefined;
    this.#holder = undefined;
    syncOp(this.id, 'release', null);
    this.#handOn();
    return undefined;
  }

  #handOn(): void {
    for (let next = this.#waiters.shift(); next; next = this.#waiters.shift()) {
      if (next.waiter.done || next.waiter.peer?.closed) continue;
      const outcome = this.tryAcquire(next.context, next.waiter.peer, next.count)!;
      next.waiter.settle(outcome);
      return;
    }
    this.publish();
  }

  onFrame(peer: Peer, frame: Frame): void {
    if (frame.op === OP_ACQUIRE) {
      const { block, timeout, rest } = decodeWait(frame.payload);
      const count = rest.readUInt32BE(0);
      this.acquire(rest.subarray(4).toString('utf8'), block, timeout, new RemoteWaiter<number>(peer, frame.request, byte), count);
    } else if (frame.op === OP_RELEASE) {
      const count = frame.payload.readUInt32BE(0);
      const problem = this.release(frame.payload.subarray(4).toString('utf8'), count);
      if (problem) process.emitWarning(`forkscope: ${this.kind}.release() from ${peer.label}: ${problem}`);
    }
  }

  onPeerClosed(peer: Peer): void {
    this.#waiters.remove((e) => e.waiter.peer === peer);
    if (this.#holder?.peer !== peer) return;
    // The holder died holding it: the next waiter gets it, told so (Python would hang for ever).
    process.emitWarning(`forkscope: ${this.kind} ${this.id} was held by ${peer.label}, which exited without releasing it`);
    syncOp(this.id, 'ownerDied', null);
    this.#holder = undefined;
    this.#ownerDied = true;
    this.#handOn();
  }
}

/**
 * Shared by Lock and RLock. With the native binding the lock is a word of shared memory that every
 * process and thread takes and releases itself, no message (shm/lock.ts); without it, the creating
 * context owns it (LockCore) and the others ask over its broker socket.
 */
export abstract class BaseLock {
  readonly #backend: ShmLock | Backend<LockCore>;
  readonly #kind: 'Lock' | 'RLock';
  /** Levels this context holds (known for remote locks, so release() can check at once). */
  #heldHere = 0;
  #ownerDied = false;

  /** @internal */
  constructor(kind: 'Lock' | 'RLock', revived: Revived | undefined) {
    this.#kind = kind;
    if (revived) this.#backend = (revived.shm ?? revived.backend) as ShmLock | Backend<LockCore>;
    else if (canShareWithProcesses()) this.#backend = new ShmLock({ recursive: kind === 'RLock', id: created(kind) });
    else this.#backend = new Backend(kind, new LockCore(kind, created(kind)));
  }

  /** True when the latest acquisition here took the lock over from a holder that died holding it. */
  get ownerDied(): boolean {
    const backend = this.#backend;
    return backend instanceof ShmLock ? backend.ownerDied : this.#ownerDied;
  }

  /** Takes the lock, waiting while another holds it; resolves false on timeout or with `block: false`. Python: Lock.acquire */
  acquire(options?: AcquireOptions): Promise<boolean> {
    // No `= {}` default: the shared-memory path is the hot one and must not allocate.
    const backend = this.#backend;
    if (backend instanceof ShmLock) return backend.acquire(options);
    const timeout = acquireTimeout(options, `${this.#kind}.acquire`);
    if (timeout instanceof TypeError) return Promise.reject(timeout);
    return this.acquireLevels(options?.block ?? true, timeout, 1);
  }

  /** @internal Acquire `count` levels at once (Condition restores an RLock's depth this way). */
  acquireLevels(block: boolean, timeout: number | undefined, count: number): Promise<boolean> {
    const backend = this.#backend;
    if (backend instanceof ShmLock) return backend.acquire({ block, timeout }, count);
    return backend
      .call<number>(
        (core, waiter) => core.acquire(contextId, block, timeout, waiter, count),
        OP_ACQUIRE,
        () => Buffer.concat([encodeWait(block, timeout), u32(count), Buffer.from(contextId)]),
        (reply) => reply.readUInt8(0),
      )
      .then((outcome) => this.#took(outcome, count));
  }

  #took(outcome: number, count: number): boolean {
    if (outcome === TIMED_OUT) return false;
    this.#heldHere += count;
    this.#ownerDied = outcome === ACQUIRED_OWNER_DIED;
    return true;
  }

  /** Releases the lock (an RLock one level). Python: Lock.release */
  release(): void {
    this.releaseLevels(1);
  }

  /** @internal Releases `count` levels; Condition releases an RLock fully this way. */
  releaseLevels(count: number): void {
    const backend = this.#backend;
    if (backend instanceof ShmLock) {
      flushSlots();
      return backend.releaseLevels(count);
    }
    backend.on(
      (core) => {
        const problem = core.release(contextId, count);
        if (problem) throw this.#kind === 'RLock' ? new RuntimeError(problem) : new ValueError(problem);
      },
      (remote) => {
        if (this.#kind === 'RLock' && this.#heldHere < count) throw new RuntimeError('cannot release un-acquired lock');
        remote.send(OP_RELEASE, Buffer.concat([u32(count), Buffer.from(contextId)]));
      },
    );
    this.#heldHere = Math.max(0, this.#heldHere - count);
  }

  /** @internal How many levels this context holds. */
  get levelsHeld(): number {
    const backend = this.#backend;
    if (backend instanceof ShmLock) return backend.levelsHeld;
    return backend.on(
      (core) => core.heldBy(contextId),
      () => this.#heldHere,
    );
  }

  /** True while some process or thread holds it. Python: Lock.locked (3.13+) */
  locked(): boolean {
    const backend = this.#backend;
    return backend instanceof ShmLock ? backend.locked() : backend.read() === 1;
  }

  /** `await lock.acquire(); using _ = lock;` releases at the end of the block. */
  [Symbol.dispose](): void {
    this.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    const backend = this.#backend;
    if (backend instanceof ShmLock) return { kind: this.#kind, state: { shm: backend[reduceSymbol](context) } };
    return { kind: this.#kind, state: backend.ref() };
  }
}

/** A reduced Lock/RLock: its shared-memory word, or its owner's address. */
type LockState = OwnerRef | { shm: ReducedObject };

function revivedLock(kind: 'Lock' | 'RLock', state: LockState): Revived {
  return 'shm' in state ? new Revived({ shm: reviveObject(state.shm) as ShmLock }) : Revived.from(kind, state);
}

/** A mutual-exclusion lock any process or thread may release; a dead holder's lock passes on with `ownerDied`. Python: multiprocessing.Lock */
export class Lock extends BaseLock {
  constructor();
  /** @internal */
  constructor(revived: Revived);
  constructor(revived?: Revived) {
    super('Lock', revived);
  }
}

/** A lock its holding process/thread may take again; released as often as taken. Python: multiprocessing.RLock */
export class RLock extends BaseLock {
  constructor();
  /** @internal */
  constructor(revived: Revived);
  constructor(revived?: Revived) {
    super('RLock', revived);
  }
}

registerReviver('Lock', (state) => new Lock(revivedLock('Lock', state as LockState)));
registerReviver('RLock', (state) => new RLock(revivedLock('RLock', state as LockState)));
