// Semaphore and BoundedSemaphore: a counter in shared memory every process and thread changes itself
// (shm/semaphore.ts) wherever the native binding loads; otherwise the creating context owns it
// (SemaphoreCore) and the others ask over its broker socket.
import type { Peer } from '../broker/broker';
import type { Frame } from '../broker/frame';
import { OP_ACQUIRE, OP_RELEASE } from '../broker/ops';
import type { OwnerRef } from '../broker/remote';
import { flushSlots } from '../broker/slots';
import { Fifo, RemoteWaiter, decodeWait, encodeWait, type Waiter } from '../broker/waiters';
import { created, syncOp, waiting } from '../broker/report';
import { ValueError } from '../errors';
import { reduceSymbol, registerReviver, reviveObject, type ReducedObject, type TransferContext } from '../reduction';
import { acquireTimeout, type AcquireOptions } from '../shm/lock';
import { SEMAPHORE_MAX, ShmSemaphore } from '../shm/semaphore';
import { canShareWithProcesses } from '../shm/arena';
import { ACQUIRED, Backend, byte, Core, Revived, TIMED_OUT, u32 } from './backend';

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
registerReviver(
  'BoundedSemaphore',
  (state) => new BoundedSemaphore((state as SemaphoreState).bound, revivedSemaphore('BoundedSemaphore', state as SemaphoreState)),
);
