// Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition and Barrier: the creating context owns the
// state, others reach it over its broker socket and read published flags synchronously (the skeleton all
// share is sync/backend.ts). Locks and semaphores live in shared memory instead (shm/lock.ts,
// shm/semaphore.ts) wherever the native binding loads. Depends on the broker, shm/ and the reduction contract only.
import { held, type Peer } from './broker/broker';
import type { Frame } from './broker/frame';
import { OP_ACQUIRE, OP_BARRIER_ABORT, OP_BARRIER_RESET, OP_BARRIER_WAIT, OP_COND_ENLISTED, OP_COND_WAIT, OP_EVENT_SET, OP_EVENT_WAIT, OP_NOTIFY, OP_RELEASE } from './broker/ops';
import { contextId, type OwnerRef } from './broker/remote';
import { flushSlots, ownSlots } from './broker/slots';
import { Fifo, LocalWaiter, RemoteWaiter, decodeWait, encodeWait, type Waiter } from './broker/waiters';
import { created, syncOp, waiting } from './broker/report';
import { BrokenBarrierError, RuntimeError, ValueError } from './errors';
import { reduceSymbol, registerReviver, reviveObject, type ReducedObject, type TransferContext } from './reduction';
import { acquireTimeout, ShmLock } from './shm/lock';
import { checkTimeout, deadlineOf, readTimeout, type TimeoutOptions } from './timeouts';
import { SEMAPHORE_MAX, ShmSemaphore } from './shm/semaphore';
import { canShareWithProcesses } from './shm/arena';
import { ACQUIRED, ACQUIRED_OWNER_DIED, Backend, byte, Core, Revived, TIMED_OUT, u32 } from './sync/backend';

/** Options of acquire(). */
export interface AcquireOptions {
  /** Wait while it is held; false answers at once. @default true */
  block?: boolean;
  /** Longest wait in ms; undefined (or null, Infinity) waits for ever; negative means "do not wait". Ignored with `block: false`. */
  timeout?: number | null;
}

/** A timeout given as `{ timeout }`, or as a bare number where Python takes the timeout first. */
export type WaitTimeout = number | null | TimeoutOptions;

// ---- Lock and RLock -------------------------------------------------------------------------

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
abstract class BaseLock {
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

// ---- Semaphore and BoundedSemaphore ---------------------------------------------------------

class SemaphoreCore extends Core {
  value: number;
  readonly bound: number | undefined;
  readonly #waiters = new Fifo<Waiter<number>>();

  constructor(kind: 'Semaphore' | 'BoundedSemaphore', id: string, value: number) {
    super(kind, id);
    this.value = value;
    this.bound = kind === 'BoundedSemaphore' ? value : undefined;
  }

  protected published(): number {
    return this.value;
  }

  acquire(block: boolean, timeout: number | undefined, waiter: Waiter<number>): void {
    if (this.value > 0) {
      this.value--;
      this.publish();
      return waiter.settle(ACQUIRED);
    }
    if (!block) return waiter.settle(TIMED_OUT);
    this.#waiters.push(waiter);
    syncOp(this.id, 'wait');
    waiter.arm(timeout, () => {
      this.#waiters.remove((w) => w === waiter);
      waiter.settle(TIMED_OUT);
    });
  }

  release(n: number): string | undefined {
    if (this.bound !== undefined && this.value + n > this.bound) return 'Semaphore released too many times';
    this.value += n;
    const woken: Waiter<number>[] = [];
    while (this.value > 0 && this.#waiters.length > 0) {
      const next = this.#waiters.shift()!;
      if (next.done || next.peer?.closed) continue;
      this.value--;
      woken.push(next);
    }
    // Published before any waiter hears of it: a woken child reads getValue() as it now is.
    this.publish();
    for (const w of woken) w.settle(ACQUIRED);
    syncOp(this.id, 'release');
    return undefined;
  }

  onFrame(peer: Peer, frame: Frame): void {
    if (frame.op === OP_ACQUIRE) {
      const { block, timeout } = decodeWait(frame.payload);
      this.acquire(block, timeout, new RemoteWaiter<number>(peer, frame.request, byte));
    } else if (frame.op === OP_RELEASE) {
      const problem = this.release(frame.payload.readUInt32BE(0));
      if (problem) process.emitWarning(`forkscope: ${this.kind}.release() from ${peer.label}: ${problem}`);
    }
  }

  onPeerClosed(peer: Peer): void {
    this.#waiters.remove((w) => w.peer === peer);
  }
}

const TAKEN = Promise.resolve(true);
const NOT_TAKEN = Promise.resolve(false);

/**
 * Shared by Semaphore and BoundedSemaphore. With the native binding the count is a word of shared
 * memory every process and thread changes itself (shm/semaphore.ts); without it, the creating
 * context owns it (SemaphoreCore) and the others ask over its broker socket.
 */
abstract class BaseSemaphore {
  readonly #backend: ShmSemaphore | Backend<SemaphoreCore>;
  readonly #kind: 'Semaphore' | 'BoundedSemaphore';
  readonly #bound: number | undefined;

  /** @internal */
  constructor(kind: 'Semaphore' | 'BoundedSemaphore', value: number, revived: Revived | undefined) {
    this.#kind = kind;
    if (revived) {
      this.#backend = (revived.sem ?? revived.backend) as ShmSemaphore | Backend<SemaphoreCore>;
      this.#bound = kind === 'BoundedSemaphore' ? value : undefined;
      return;
    }
    if (!Number.isInteger(value) || value < 0) throw new ValueError('semaphore initial value must be >= 0');
    this.#bound = kind === 'BoundedSemaphore' ? value : undefined;
    if (canShareWithProcesses()) {
      if (value > SEMAPHORE_MAX) throw new ValueError('semaphore initial value too large');
      this.#backend = new ShmSemaphore({ value, bound: this.#bound, id: created(kind, value) });
    } else {
      this.#backend = new Backend(kind, new SemaphoreCore(kind, created(kind, value), value));
    }
  }

  /** Decrements the counter, waiting while it is zero; resolves false on timeout or with `block: false`. Python: Semaphore.acquire */
  acquire(options?: AcquireOptions): Promise<boolean> {
    const timeout = acquireTimeout(options, `${this.#kind}.acquire`);
    if (timeout instanceof TypeError) return Promise.reject(timeout);
    const backend = this.#backend;
    if (backend instanceof ShmSemaphore) {
      if (backend.tryAcquire()) return TAKEN;
      if (options?.block === false) return NOT_TAKEN;
      // What the owner of a broker semaphore reports: a wait (the view lists waiters by their own state).
      syncOp(backend.id, 'wait');
      return this.#waitShm(backend, timeout);
    }
    const block = options?.block ?? true;
    return backend
      .call<number>(
        (core, waiter) => core.acquire(block, timeout, waiter),
        OP_ACQUIRE,
        () => encodeWait(block, timeout),
        (reply) => reply.readUInt8(0),
      )
      .then((outcome) => outcome !== TIMED_OUT);
  }

  /** A shared-memory wait polls on timers, which keep the process alive: no broker hold needed. */
  async #waitShm(shm: ShmSemaphore, timeout: number | undefined): Promise<boolean> {
    const done = waiting({ id: shm.id, kind: this.#kind });
    try {
      return await shm.wait(timeout);
    } finally {
      done();
    }
  }

  /** Increments the counter by `n`, waking waiters; a BoundedSemaphore throws ValueError past its start. Python: Semaphore.release */
  release(n = 1): void {
    // Python's threading.Semaphore.release(n) check: a count below one would take instead of give.
    if (!Number.isInteger(n) || n < 1) throw new ValueError('n must be one or more');
    const backend = this.#backend;
    if (backend instanceof ShmSemaphore) {
      // As a lock's release: what this context published must be visible to whoever takes it next.
      flushSlots();
      backend.release(n);
      syncOp(backend.id, 'release');
      return;
    }
    backend.on(
      (core) => {
        const problem = core.release(n);
        if (problem) throw new ValueError(problem);
      },
      (remote) => {
        // The owner would only warn: a BoundedSemaphore released too often throws here, as in the owner.
        if (this.#bound !== undefined && backend.read() + n > this.#bound) throw new ValueError('Semaphore released too many times');
        remote.send(OP_RELEASE, u32(n));
      },
    );
  }

  /** The counter's current value. Python: Semaphore.get_value */
  getValue(): number {
    const backend = this.#backend;
    return backend instanceof ShmSemaphore ? backend.value : backend.read();
  }

  [Symbol.dispose](): void {
    this.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    const backend = this.#backend;
    if (backend instanceof ShmSemaphore) return { kind: this.#kind, state: { shm: backend[reduceSymbol](context), bound: this.#bound } };
    return { kind: this.#kind, state: { ...backend.ref(), bound: this.#bound } };
  }
}

/** A counter that acquire() decrements and release() increments. Python: multiprocessing.Semaphore */
export class Semaphore extends BaseSemaphore {
  /** @param value Initial count. @default 1 */
  constructor(value?: number);
  /** @internal */
  constructor(value: number, revived: Revived);
  constructor(value = 1, revived?: Revived) {
    super('Semaphore', value, revived);
  }
}

/** A Semaphore whose release() past its initial value throws ValueError. Python: multiprocessing.BoundedSemaphore */
export class BoundedSemaphore extends BaseSemaphore {
  /** @param value Initial and largest count. @default 1 */
  constructor(value?: number);
  /** @internal */
  constructor(value: number | undefined, revived: Revived);
  constructor(value = 1, revived?: Revived) {
    super('BoundedSemaphore', value, revived);
  }
}

/** A reduced Semaphore: its shared-memory word, or its owner's address; and a BoundedSemaphore's bound. */
type SemaphoreState = (OwnerRef | { shm: ReducedObject }) & { bound?: number };

function revivedSemaphore(kind: 'Semaphore' | 'BoundedSemaphore', state: SemaphoreState): Revived {
  return 'shm' in state ? new Revived({ sem: reviveObject(state.shm) as ShmSemaphore }) : Revived.from(kind, state);
}

registerReviver('Semaphore', (state) => new Semaphore(0, revivedSemaphore('Semaphore', state as SemaphoreState)));
registerReviver('BoundedSemaphore', (state) => new BoundedSemaphore((state as SemaphoreState).bound, revivedSemaphore('BoundedSemaphore', state as SemaphoreState)));

// ---- Event ----------------------------------------------------------------------------------

class EventCore extends Core {
  #flag = false;
  readonly #waiters = new Fifo<Waiter<number>>();

  constructor(id: string) {
    super('Event', id);
  }

  /** Once shared, the slot is the truth: any process may write it synchronously. */
  get flag(): boolean {
    return this.slot >= 0 ? ownSlots().read(this.slot) === 1 : this.#flag;
  }

  protected published(): number {
    return this.#flag ? 1 : 0;
  }

  override current(): number {
    return this.flag ? 1 : 0;
  }

  set(value: boolean): void {
    this.#flag = value;
    this.publish();
    syncOp(this.id, value ? 'set' : 'clear');
    if (value) this.wake();
  }

  wake(): void {
    for (let w = this.#waiters.shift(); w; w = this.#waiters.shift()) w.settle(1);
  }

  wait(timeout: number | undefined, waiter: Waiter<number>): void {
    if (this.flag) return waiter.settle(1);
    this.#waiters.push(waiter);
    waiter.arm(timeout, () => {
      this.#waiters.remove((w) => w === waiter);
      waiter.settle(this.flag ? 1 : 0);
    });
  }

  onFrame(peer: Peer, frame: Frame): void {
    if (frame.op === OP_EVENT_WAIT) {
      const { timeout } = decodeWait(frame.payload);
      this.wait(timeout, new RemoteWaiter<number>(peer, frame.request, byte));
    } else if (frame.op === OP_EVENT_SET && this.flag) {
      // The setter wrote the slot before telling: the flag is already visible everywhere.
      this.#flag = true;
      this.wake();
    }
  }

  onPeerClosed(peer: Peer): void {
    this.#waiters.remove((w) => w.peer === peer);
  }
}

/** A flag processes wait for; isSet() is synchronous everywhere, even in a busy loop. Python: multiprocessing.Event */
export class Event {
  readonly #backend: Backend<EventCore>;

  constructor();
  /** @internal */
  constructor(revived: Revived);
  constructor(revived?: Revived) {
    this.#backend = (revived?.backend as Backend<EventCore> | undefined) ?? new Backend('Event', new EventCore(created('Event')));
  }

  /** True once set() was called and not cleared since; one file read, no message. Python: Event.is_set */
  isSet(): boolean {
    return this.#backend.read() === 1;
  }

  /** Sets the flag and wakes every waiter. Python: Event.set */
  set(): void {
    // Elsewhere the slot is written first: the flag is visible everywhere before the owner hears of it.
    this.#backend.tell((core) => core.set(true), OP_EVENT_SET, undefined, 1);
  }

  /** Clears the flag. Python: Event.clear */
  clear(): void {
    this.#backend.tell((core) => core.set(false), undefined, undefined, 0);
  }

  /** Resolves true once the flag is set, or false after `timeout` ms (`wait(100)` or `wait({ timeout: 100 })`). Python: Event.wait */
  async wait(timeout?: WaitTimeout): Promise<boolean> {
    const ms = readTimeout(timeout, 'Event.wait', true);
    if (this.isSet()) return true;
    const woken = await this.#backend.call<number>(
      (core, waiter) => core.wait(ms, waiter),
      OP_EVENT_WAIT,
      () => encodeWait(true, ms),
      (reply) => reply.readUInt8(0),
    );
    return woken === 1;
  }

  [reduceSymbol](_context: TransferContext): ReducedObject {
    return { kind: 'Event', state: this.#backend.ref() };
  }
}

registerReviver('Event', (state) => new Event(Revived.from('Event', state as OwnerRef)));

// ---- Condition ------------------------------------------------------------------------------

class ConditionCore extends Core {
  readonly #waiters = new Fifo<Waiter<number>>();

  constructor(id: string) {
    super('Condition', id);
  }

  protected published(): number {
    return this.#waiters.length;
  }

  enlist(timeout: number | undefined, waiter: Waiter<number>): void {
    this.#waiters.push(waiter);
    waiter.arm(timeout, () => {
      this.#waiters.remove((w) => w === waiter);
      waiter.settle(0);
    });
  }

  notify(n: number): void {
    syncOp(this.id, 'notify');
    while (n-- > 0) {
      const next = this.#waiters.shift();
      if (!next) return;
      if (next.done || next.peer?.closed) n++;
      else next.settle(1);
    }
  }

  onFrame(peer: Peer, frame: Frame): void {
    if (frame.op === OP_COND_WAIT) this.enlist(decodeWait(frame.payload).timeout, new RemoteWaiter<number>(peer, frame.request, byte));
    else if (frame.op === OP_NOTIFY) this.notify(frame.payload.readUInt32BE(0));
    else if (frame.op === OP_COND_ENLISTED) peer.reply(frame.request, Buffer.alloc(0));
  }

  onPeerClosed(peer: Peer): void {
    this.#waiters.remove((w) => w.peer === peer);
  }
}

/** Waits for a notify() while its lock is released, then takes the lock back. Python: multiprocessing.Condition */
export class Condition {
  readonly #backend: Backend<ConditionCore>;
  readonly #lock: BaseLock;

  /** @param lock The lock it uses. @default a new RLock */
  constructor(lock?: Lock | RLock);
  /** @internal */
  constructor(lock: Lock | RLock, revived: Revived);
  constructor(lock?: Lock | RLock, revived?: Revived) {
    if (revived) {
      this.#backend = revived.backend as Backend<ConditionCore>;
      this.#lock = lock!;
      return;
    }
    this.#lock = lock ?? new RLock();
    this.#backend = new Backend('Condition', new ConditionCore(created('Condition')));
  }

  /** Takes the underlying lock. Python: Condition.acquire */
  acquire(options: AcquireOptions = {}): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** Releases the underlying lock. Python: Condition.release */
  release(): void {
    this.#lock.release();
  }

  /** Releases the lock, waits for notify() or `timeout` ms (`wait(100)` or `wait({ timeout: 100 })`), takes the lock back; false on timeout. Python: Condition.wait */
  async wait(timeout?: WaitTimeout): Promise<boolean> {
    const ms = readTimeout(timeout, 'Condition.wait', true);
    // Python: any lock, not only an RLock, must be held here (a plain Lock by this very thread).
    const levels = this.#lock.levelsHeld;
    if (levels === 0) throw new RuntimeError('cannot wait on un-acquired lock');
    const backend = this.#backend;
    const done = waiting({ id: backend.id, kind: 'Condition' });
    // Enlist before releasing, so a notify() between the two is not lost.
    const { notified, enlisted } = backend.on<{ notified: Promise<number>; enlisted?: Promise<Buffer> }>(
      (core) => {
        const waiter = new LocalWaiter<number>();
        core.enlist(ms, waiter);
        return { notified: waiter.promise };
      },
      (remote) => {
        const notified = remote.request(OP_COND_WAIT, encodeWait(true, ms)).then((r) => r.readUInt8(0));
        notified.catch(() => undefined);
        // A shared-memory lock is taken without a message, so a notifier could take it and notify before
        // the owner has read our OP_COND_WAIT: wait until it has, then release.
        return { notified, enlisted: remote.request(OP_COND_ENLISTED) };
      },
    );
    if (enlisted) {
      try {
        await held(enlisted);
      } catch (error) {
        done();
        throw error;
      }
    }
    this.#lock.releaseLevels(levels);
    try {
      return (await held(notified)) === 1;
    } finally {
      await this.#lock.acquireLevels(true, undefined, levels);
      done();
    }
  }

  /** Waits until `predicate()` is truthy or `timeout` ms pass (`waitFor(pred, 100)` or `waitFor(pred, { timeout: 100 })`); resolves its last value. Python: Condition.wait_for */
  async waitFor<T>(predicate: () => T | Promise<T>, timeout?: WaitTimeout): Promise<T> {
    const end = deadlineOf(readTimeout(timeout, 'Condition.waitFor', true));
    let result = await predicate();
    while (!result) {
      const left = end === undefined ? undefined : end - Date.now();
      if (left !== undefined && left <= 0) break;
      await this.wait(left);
      result = await predicate();
    }
    return result;
  }

  /** Wakes up to `n` waiters; throws RuntimeError unless the caller holds the lock. Python: Condition.notify */
  notify(n = 1): void {
    if (this.#lock.levelsHeld === 0) throw new RuntimeError('cannot notify on un-acquired lock');
    this.#backend.tell((core) => core.notify(n), OP_NOTIFY, () => u32(n));
  }

  /** Wakes every waiter. Python: Condition.notify_all */
  notifyAll(): void {
    this.notify(0xffff_fff0);
  }

  [Symbol.dispose](): void {
    this.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    return { kind: 'Condition', state: { ...this.#backend.ref(), lock: this.#lock[reduceSymbol](context) } };
  }
}

registerReviver('Condition', (state) => {
  const { lock, ...ref } = state as OwnerRef & { lock: ReducedObject };
  const revivedLock = reviveObject(lock) as Lock | RLock;
  return new Condition(revivedLock, Revived.from('Condition', ref));
});

// ---- Barrier --------------------------------------------------------------------------------

/** Options of a Barrier. */
export interface BarrierOptions {
  /** Runs once per trip, in the process that created the barrier, before the waiters go on. */
  action?: () => void;
  /** Default timeout of wait() in ms; negative means "do not wait". */
  timeout?: number | null;
}

class BarrierCore extends Core {
  readonly parties: number;
  readonly #action: (() => void) | undefined;
  #waiters: { waiter: Waiter<number>; index: number }[] = [];
  broken = false;

  constructor(id: string, parties: number, action: (() => void) | undefined) {
    super('Barrier', id);
    this.parties = parties;
    this.#action = action;
  }

  get nWaiting(): number {
    return this.#waiters.length;
  }

  /** -1 when broken, else how many wait. */
  protected published(): number {
    return this.broken ? -1 : this.#waiters.length;
  }

  wait(timeout: number | undefined, waiter: Waiter<number>): void {
    if (this.broken) return waiter.fail(new BrokenBarrierError());
    const index = this.#waiters.length;
    this.#waiters.push({ waiter, index });
    if (this.#waiters.length === this.parties) {
      const waiters = this.#waiters;
      this.#waiters = [];
      try {
        this.#action?.();
      } catch (error) {
        this.#waiters = waiters;
        this.abort();
        process.emitWarning(`forkscope: Barrier action failed: ${(error as Error).message}`);
        return;
      }
      // Published before any party hears of it: a released child reads nWaiting 0, as Python's does.
      this.publish();
      for (const w of waiters) w.waiter.settle(w.index);
      return;
    }
    this.publish();
    // Python: a wait that times out breaks the barrier for everyone.
    waiter.arm(timeout, () => this.abort());
  }

  abort(): void {
    this.broken = true;
    syncOp(this.id, 'broken');
    const waiters = this.#waiters;
    this.#waiters = [];
    this.publish();
    for (const w of waiters) w.waiter.fail(new BrokenBarrierError());
  }

  reset(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    this.broken = false;
    this.publish();
    for (const w of waiters) w.waiter.fail(new BrokenBarrierError());
  }

  onFrame(peer: Peer, frame: Frame): void {
    if (frame.op === OP_BARRIER_WAIT) this.wait(decodeWait(frame.payload).timeout, new RemoteWaiter<number>(peer, frame.request, u32));
    else if (frame.op === OP_BARRIER_ABORT) this.abort();
    else if (frame.op === OP_BARRIER_RESET) this.reset();
  }

  onPeerClosed(peer: Peer): void {
    // A party that died while waiting can never arrive: the others must not wait for ever.
    if (this.#waiters.some((w) => w.waiter.peer === peer)) {
      this.#waiters = this.#waiters.filter((w) => w.waiter.peer !== peer);
      this.abort();
    }
  }
}

/** `parties` processes wait until all have arrived, then go on together. Python: multiprocessing.Barrier */
export class Barrier {
  readonly #backend: Backend<BarrierCore>;
  readonly #parties: number;
  readonly #timeout: number | undefined;

  constructor(parties: number, options?: BarrierOptions);
  /** @internal */
  constructor(parties: number, options: BarrierOptions, revived: Revived);
  constructor(parties: number, options: BarrierOptions = {}, revived?: Revived) {
    this.#parties = parties;
    this.#timeout = checkTimeout(options.timeout, 'Barrier');
    if (revived) {
      this.#backend = revived.backend as Backend<BarrierCore>;
      return;
    }
    if (!Number.isInteger(parties) || parties < 1) throw new ValueError('parties must be >= 1');
    this.#backend = new Backend('Barrier', new BarrierCore(created('Barrier', parties), parties, options.action));
  }

  /** How many must arrive. Python: Barrier.parties */
  get parties(): number {
    return this.#parties;
  }

  /** How many wait now. Python: Barrier.n_waiting */
  get nWaiting(): number {
    return Math.max(0, this.#backend.read());
  }

  /** True once aborted or broken by a timeout. Python: Barrier.broken */
  get broken(): boolean {
    return this.#backend.read() === -1;
  }

  /** Resolves with this arrival's index (0 … parties-1) once all arrived (`wait(100)` or `wait({ timeout: 100 })`, else the barrier's own timeout); rejects BrokenBarrierError. Python: Barrier.wait */
  async wait(timeout?: WaitTimeout): Promise<number> {
    const ms = readTimeout(timeout, 'Barrier.wait', true) ?? this.#timeout;
    return this.#backend.call<number>(
      (core, waiter) => core.wait(ms, waiter),
      OP_BARRIER_WAIT,
      () => encodeWait(true, ms),
      (reply) => reply.readUInt32BE(0),
    );
  }

  /** Breaks the barrier: every waiter, now and later, gets BrokenBarrierError. Python: Barrier.abort */
  abort(): void {
    this.#backend.tell((core) => core.abort(), OP_BARRIER_ABORT);
  }

  /** Back to the empty state; current waiters get BrokenBarrierError. Python: Barrier.reset */
  reset(): void {
    this.#backend.tell((core) => core.reset(), OP_BARRIER_RESET);
  }

  [reduceSymbol](_context: TransferContext): ReducedObject {
    return { kind: 'Barrier', state: { ...this.#backend.ref(), parties: this.#parties, timeout: this.#timeout } };
  }
}

registerReviver('Barrier', (state) => {
  const s = state as OwnerRef & { parties: number; timeout?: number };
  return new Barrier(s.parties, { timeout: s.timeout }, Revived.from('Barrier', s));
});
