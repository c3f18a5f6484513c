// What Pool.imap and imapUnordered return: an iterator that pulls its source lazily, a few chunks per worker
// ahead of the consumer (Python's task feeder, with back-pressure), and yields results in order or as they come.
// Parent side; Node's modules only. The pool supplies how chunks are made and submitted.
import { TimeoutError } from './errors';
import { readTimeout } from './timeouts';
import type { Chunk } from './workers';

/** Chunks fed ahead of the consumer, per worker: enough to keep fast workers batching, bounded for infinite sources. */
export const FEED_WINDOW_PER_WORKER = 32;
/** Chunks pulled per turn once the pool is closing and the feed runs to the end: the event loop keeps turning. */
const SLICE = 256;

/**
 * The iterator of Pool.imap / imapUnordered: `for await` it, or call `next({ timeout })`.
 * Python: multiprocessing.pool.IMapIterator
 */
export interface IMapIterator<T> extends AsyncIterableIterator<T> {
  /** The next result; rejects with the task's (or the source's) error, or TimeoutError after `timeout` ms. */
  next(options?: number | { timeout?: number }): Promise<IteratorResult<T>>;
}

interface FeedOptions {
  source: Iterator<unknown>;
  chunksize: number;
  ordered: boolean;
  window: number;
  chunk(index: number, items: unknown[], settle: (index: number, ok: boolean, value: unknown) => void): Chunk;
  submit(chunks: Chunk[]): void;
  /** Called once the source is exhausted, failed or stopped. */
  done(feed: IMapFeed<unknown>): void;
}

interface Entry {
  ok: boolean;
  value: unknown;
}

export class IMapFeed<R> {
  #o: FeedOptions;
  #submitted = 0;
  #consumed = 0;
  #exhausted = false;
  #unbounded = false;
  #pulling = false;
  #ready = new Map<number, Entry>();
  #arrival: number[] = [];
  #arrivalHead = 0;
  #waiters: Array<() => void> = [];
  #buffer: ArrayLike<unknown> = [];
  #bufferAt = 0;
  readonly iterator: IMapIterator<R>;

  constructor(options: FeedOptions) {
    this.#o = options;
    const feed = this;
    this.iterator = {
      [Symbol.asyncIterator]() {
        return feed.iterator;
      },
      next: (options?: number | { timeout?: number }) => this.#next(readTimeout(options, 'IMapIterator.next', true)),
      return: async (): Promise<IteratorResult<R>> => {
        this.stop();
        this.#consumed = this.#submitted;
        this.#buffer = [];
        return { done: true, value: undefined };
      },
    };
  }

  /** Pulls chunks from the source while the consumer is less than a window behind (all of it once draining). */
  fill(): void {
    if (this.#pulling || this.#exhausted) return;
    this.#pulling = true;
    const chunks: Chunk[] = [];
    let pulled = 0;
    try {
      while (!this.#exhausted && (this.#unbounded ? pulled < SLICE : this.#submitted - this.#consumed < this.#o.window)) {
        const items: unknown[] = [];
        let failure: { error: unknown } | undefined;
        while (items.length < this.#o.chunksize) {
          let step: IteratorResult<unknown>;
          try {
            step = this.#o.source.next();
          } catch (error) {
            failure = { error };
            break;
          }
          if (step.done) {
            this.#exhausted = true;
            break;
          }
          items.push(step.value);
        }
        if (failure) {
          // As Python's _guarded_task_generation: the error takes the next index (a partial chunk is dropped) and
          // ends the source, so the results before it arrive first.
          this.#exhausted = true;
          this.#settle(this.#submitted++, false, failure.error);
          break;
        }
        if (items.length > 0) chunks.push(this.#o.chunk(this.#submitted++, items, (i, ok, value) => this.#settle(i, ok, value)));
        pulled++;
      }
    } finally {
      this.#pulling = false;
      if (chunks.length > 0) this.#o.submit(chunks);
    }
    if (this.#exhausted) {
      this.#wake();
      this.#o.done(this as IMapFeed<unknown>);
    } else if (this.#unbounded) {
      setImmediate(() => this.fill());
    }
  }

  /** The pool is closing: feed the rest without waiting for the consumer, as Python's task handler does. */
  drainAll(): void {
    this.#unbounded = true;
    this.fill();
  }

  /** No more pulling (terminate, or the consumer broke off); what was submitted still settles. */
  stop(): void {
    if (this.#exhausted) return;
    this.#exhausted = true;
    try {
      this.#o.source.return?.();
    } catch {
      // The source's own clean-up failing must not break the pool's.
    }
    this.#wake();
    this.#o.done(this as IMapFeed<unknown>);
  }

  #settle(index: number, ok: boolean, value: unknown): void {
    this.#ready.set(index, { ok, value });
    if (!this.#o.ordered) this.#arrival.push(index);
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  #take(): Entry | undefined {
    let index: number | undefined;
    if (this.#o.ordered) index = this.#consumed;
    else {
      index = this.#arrival[this.#arrivalHead];
      if (index === undefined) return undefined;
    }
    const entry = this.#ready.get(index);
    if (!entry) return undefined;
    this.#ready.delete(index);
    if (!this.#o.ordered) {
      this.#arrivalHead++;
      if (this.#arrivalHead > 1024 && this.#arrivalHead * 2 > this.#arrival.length) {
        this.#arrival = this.#arrival.slice(this.#arrivalHead);
        this.#arrivalHead = 0;
      }
    }
    this.#consumed++;
    this.fill();
    return entry;
  }

  async #next(timeout: number | undefined): Promise<IteratorResult<R>> {
    const deadline = timeout === undefined ? undefined : Date.now() + timeout;
    while (this.#bufferAt >= this.#buffer.length) {
      if (this.#exhausted && this.#consumed >= this.#submitted) return { done: true, value: undefined };
      const entry = this.#take();
      if (!entry) {
        await this.#nextArrival(deadline);
        continue;
      }
      if (!entry.ok) throw entry.value;
      this.#buffer = entry.value as ArrayLike<unknown>;
      this.#bufferAt = 0;
    }
    return { done: false, value: this.#buffer[this.#bufferAt++] as R };
  }

  /** Waits for the next settled chunk (or the end of the source); TimeoutError at the deadline. */
  #nextArrival(deadline: number | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(waiter);
      if (deadline !== undefined) {
        timer = setTimeout(
          () => {
            this.#waiters = this.#waiters.filter((w) => w !== waiter);
            reject(new TimeoutError('the next result was not ready in time'));
          },
          Math.max(0, deadline - Date.now()),
        );
      }
    });
  }
}
