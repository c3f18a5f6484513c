// Condition: a lock (any Lock or RLock, shared memory or not) plus the list of waiters its creating context
// owns; a wait enlists with the owner before it releases the lock, so no notify() falls between the two.
import { held, type Peer } from '../broker/broker';
import type { Frame } from '../broker/frame';
import { OP_COND_ENLISTED, OP_COND_WAIT, OP_NOTIFY } from '../broker/ops';
import type { OwnerRef } from '../broker/remote';
import { Fifo, LocalWaiter, RemoteWaiter, decodeWait, encodeWait, type Waiter } from '../broker/waiters';
import { created, syncOp, waiting } from '../broker/report';
import { RuntimeError } from '../errors';
import { reduceSymbol, registerReviver, reviveObject, type ReducedObject, type TransferContext } from '../reduction';
import type { AcquireOptions } from '../shm/lock';
import { deadlineOf, readTimeout } from '../timeouts';
import { Backend, byte, Core, Revived, u32, type WaitTimeout } from './backend';
import { RLock, type BaseLock, type Lock } from './lock';

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
    this.#backend.tell(
      (core) => core.notify(n),
      OP_NOTIFY,
      () => u32(n),
    );
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
