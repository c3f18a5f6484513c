// A Semaphore/BoundedSemaphore counter in a word of shared memory: acquire is a compare-and-swap that
// takes one from a positive count, release one that adds (refusing past the bound), and a waiter polls
// as shm/lock.ts's waiters do. No broker, no message. Telemetry stays with synchronize.ts's wrapper.
// Node's modules only; depends on arena.ts for the memory, lock.ts for waiting, reduction.ts to cross.
import { reduceSymbol, registerReviver, type ReducedObject, type TransferContext } from '../reduction';
import { ValueError } from '../errors';
import { allocate, reduceBlock, reviveBlock, type Block, type BlockDescriptor } from './arena';
import { pollFor } from './lock';

const VALUE = 0;
const WORDS = 2;
/** The largest count a word holds (Python's SEM_VALUE_MAX on Linux is the same). */
export const SEMAPHORE_MAX = 0x7fff_ffff;

/** A counting semaphore every thread and process that maps its block decrements and increments itself. */
export class ShmSemaphore {
  readonly #words: Int32Array;
  readonly #block: Block;
  /** BoundedSemaphore's initial value, or -1 for a plain Semaphore. */
  readonly #bound: number;
  /** The program-wide id the hub knows it by. */
  readonly id: string;

  constructor(options: { value: number; bound?: number; id: string; block?: Block }) {
    this.#bound = options.bound ?? -1;
    this.id = options.id;
    const fresh = options.block === undefined;
    this.#block = options.block ?? allocate(WORDS * 4);
    this.#words = new Int32Array(this.#block.buffer, this.#block.offset, WORDS);
    if (fresh) Atomics.store(this.#words, VALUE, options.value);
  }

  /** The current count. */
  get value(): number {
    return Atomics.load(this.#words, VALUE);
  }

  /** Takes one if the count is positive; true when taken. */
  tryAcquire(): boolean {
    const words = this.#words;
    for (let seen = Atomics.load(words, VALUE); seen > 0; ) {
      const before = Atomics.compareExchange(words, VALUE, seen, seen - 1);
      if (before === seen) return true;
      seen = before;
    }
    return false;
  }

  /** Resolves true once one was taken, false after `timeout` ms (none: waits for ever). */
  wait(timeout: number | undefined): Promise<boolean> {
    const words = this.#words;
    return pollFor(() => Atomics.load(words, VALUE) > 0 && this.tryAcquire(), timeout);
  }

  /** Adds `n`; throws ValueError (count unchanged) past a BoundedSemaphore's initial value. */
  release(n: number): void {
    const words = this.#words;
    for (let seen = Atomics.load(words, VALUE); ; ) {
      if (this.#bound >= 0 && seen + n > this.#bound) throw new ValueError('Semaphore released too many times');
      if (seen + n > SEMAPHORE_MAX) throw new ValueError('semaphore value too large');
      const before = Atomics.compareExchange(words, VALUE, seen, seen + n);
      if (before === seen) return;
      seen = before;
    }
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    return { kind: 'forkscope.ShmSemaphore', state: { bound: this.#bound, id: this.id, block: reduceBlock(this.#block, context.startMethod, 'semaphore') } };
  }
}

registerReviver('forkscope.ShmSemaphore', (state) => {
  const { bound, id, block } = state as { bound: number; id: string; block: BlockDescriptor };
  return new ShmSemaphore({ value: 0, bound: bound < 0 ? undefined : bound, id, block: reviveBlock(block) });
});
