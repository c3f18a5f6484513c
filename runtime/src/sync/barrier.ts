// Barrier: `parties` arrivals its creating context counts (running the action there), publishing how many
// wait, or -1 once broken; a party that dies or times out breaks it for everyone, as in Python.
import type { Peer } from '../broker/broker';
import type { Frame } from '../broker/frame';
import { OP_BARRIER_ABORT, OP_BARRIER_RESET, OP_BARRIER_WAIT } from '../broker/ops';
import type { OwnerRef } from '../broker/remote';
import { RemoteWaiter, decodeWait, encodeWait, type Waiter } from '../broker/waiters';
import { created, syncOp } from '../broker/report';
import { BrokenBarrierError, ValueError } from '../errors';
import { reduceSymbol, registerReviver, type ReducedObject, type TransferContext } from '../reduction';
import { checkTimeout, readTimeout } from '../timeouts';
import { Backend, Core, Revived, u32, type WaitTimeout } from './backend';

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
