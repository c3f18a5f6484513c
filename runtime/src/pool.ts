// Pool and AsyncResult, as CPython's multiprocessing/pool.py, over the worker set (workers.ts).
// A dead worker fails only the task it held (CPython hangs: bpo-22393). Parent side; Node's modules only.
import { TimeoutError, ValueError, Full, ProcessError } from './errors';
import { readTimeout } from './timeouts';
import { IMapFeed, FEED_WINDOW_PER_WORKER, type IMapIterator } from './imap';
import { WorkerSet, type Chunk, type TaskSet } from './workers';
import { packedNumbers, PACKED_MIN } from './serialize';
import { remoteBackendOf } from './bullmq/context';
import { RemoteTaskSet } from './bullmq/remoteTaskSet';
import { defaultStartMethod, cpuCount, forcedInline } from './process';
import { ensureForkserver } from './forkserver';
import { self } from './process';
import type { StartMethod } from './protocol';
import * as telemetry from './telemetry';
import { atExit } from './atExit';

export interface PoolOptions {
  /** Number of workers. @default cpuCount() */
  processes?: number;
  /** Exported function each worker calls once before its first task. */
  initializer?: Function;
  /** Arguments for the initializer. @default [] */
  initargs?: unknown[];
  /** A worker is replaced after this many tasks (chunks). @default unlimited */
  maxTasksPerChild?: number;
  /** Start method, or a context from getContext(). @default getStartMethod() */
  context?: StartMethod | { getStartMethod(): StartMethod };
  /** Beyond Python: applyAsync() rejects with Full when this many tasks wait. @default unlimited */
  maxQueue?: number;
}

export interface TaskOptions {
  /** Beyond Python: cancels the task while queued or running (a running task's worker is replaced). */
  signal?: AbortSignal;
  /** Beyond Python: the task fails with TimeoutError after this many ms (its worker is replaced). */
  timeout?: number;
}

export interface AsyncOptions<T> extends TaskOptions {
  /** Called with the result when it succeeds. */
  callback?: (value: T) => void;
  /** Called with the error when it fails. */
  errorCallback?: (error: unknown) => void;
}

export interface MapOptions extends TaskOptions {
  /** Items per task. @default as CPython: ceil(len / (4 × workers)) for map, 1 for imap */
  chunksize?: number;
}

export type { IMapIterator } from './imap';

/**
 * The result of applyAsync/mapAsync: a Promise-compatible handle with Python's methods.
 * Python: multiprocessing.pool.AsyncResult
 */
export class AsyncResult<T> implements PromiseLike<T> {
  #promise: Promise<T>;
  #ready = false;
  #ok = false;
  #value: unknown;

  constructor(promise: Promise<T>, options: { callback?: (value: T) => void; errorCallback?: (error: unknown) => void } = {}) {
    this.#promise = promise.then(
      (value) => {
        this.#ready = true;
        this.#ok = true;
        this.#value = value;
        options.callback?.(value);
        return value;
      },
      (error: unknown) => {
        this.#ready = true;
        this.#value = error;
        options.errorCallback?.(error);
        throw error;
      },
    );
    // A result nobody awaits must not crash the program with an unhandled rejection (Python keeps it too).
    this.#promise.catch(() => {});
  }

  /** The result; rejects with the task's error, or TimeoutError after `timeout` ms. Python: AsyncResult.get */
  get(options?: number | { timeout?: number }): Promise<T> {
    let timeout: number | undefined;
    try {
      timeout = readTimeout(options, 'AsyncResult.get', true);
    } catch (error) {
      return Promise.reject(error);
    }
    if (timeout === undefined || this.#ready) return this.#promise;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError('the result was not ready in time')), timeout);
      this.#promise.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  /** Waits until ready or `timeout` ms pass; never rejects. Python: AsyncResult.wait */
  async wait(options?: number | { timeout?: number }): Promise<void> {
    const timeout = readTimeout(options, 'AsyncResult.wait', true);
    await this.get({ timeout }).catch(() => {});
  }

  /** Python: AsyncResult.ready */
  ready(): boolean {
    return this.#ready;
  }

  /** Whether it succeeded; throws ValueError while not ready. Python: AsyncResult.successful */
  successful(): boolean {
    if (!this.#ready) throw new ValueError(`${this} not ready`);
    return this.#ok;
  }

  then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#promise.then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.#promise.catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#promise.finally(onFinally);
  }

  /** For tests and the view: the settled value or error. */
  get _value(): unknown {
    return this.#value;
  }
}

/** CPython's default: divmod(len, workers × 4), rounded up; 0 for nothing. */
export function defaultChunksize(length: number, workers: number): number {
  if (length === 0) return 0;
  const [size, extra] = [Math.floor(length / (workers * 4)), length % (workers * 4)];
  return Math.max(1, extra ? size + 1 : size);
}

export function resolveStartMethod(context: PoolOptions['context']): StartMethod {
  if (!context || forcedInline()) return defaultStartMethod();
  if (typeof context === 'string') return context;
  return context.getStartMethod();
}

const workerNames: Record<StartMethod, string> = {
  spawn: 'SpawnPoolWorker',
  thread: 'ThreadPoolWorker',
  forkserver: 'ForkServerPoolWorker',
  inline: 'InlinePoolWorker',
};

const openPools = new Set<Pool>();

/**
 * A pool of worker processes (or threads) that runs tasks: map, imap, starmap, apply and their async forms.
 * Python: multiprocessing.Pool
 */
export class Pool {
  #workers: TaskSet;
  #processes: number;
  #state: 'RUN' | 'CLOSE' | 'TERMINATE' = 'RUN';
  #maxQueue: number | undefined;
  #id: string;
  #feeds = new Set<IMapFeed<unknown>>();
  /** Whether a map's numbers go packed to the workers (local processes or threads; not inline, not a cluster). */
  #packs = false;

  constructor(options: PoolOptions | number = {}) {
    const opts: PoolOptions = typeof options === 'number' ? { processes: options } : options;
    const processes = opts.processes ?? cpuCount();
    if (!Number.isInteger(processes) || processes < 1) throw new ValueError('Number of processes must be at least 1');
    if (opts.maxTasksPerChild !== undefined && (!Number.isInteger(opts.maxTasksPerChild) || opts.maxTasksPerChild < 1)) {
      throw new ValueError('maxtasksperchild must be a positive int or None');
    }
    this.#processes = processes;
    this.#maxQueue = opts.maxQueue;
    this.#id = telemetry.objectCreated('Pool', { capacity: processes, site: telemetry.callSite() });
    // On a cluster (a bullmq context, or FORKSCOPE_BACKEND), `processes` is how many tasks are in flight at most.
    const backend = remoteBackendOf(opts.context);
    if (backend) {
      this.#workers = new RemoteTaskSet(backend, { processes, poolId: this.#id });
      openPools.add(this);
      return;
    }
    const method = resolveStartMethod(opts.context);
    if (method === 'forkserver') ensureForkserver(self.mainModule, Math.min(processes, 4));
    this.#packs = method !== 'inline';
    this.#workers = new WorkerSet({
      processes,
      startMethod: method,
      initializer: opts.initializer,
      initargs: opts.initargs,
      maxTasksPerChild: opts.maxTasksPerChild,
      onDeath: 'replace',
      workerName: workerNames[method],
      poolId: this.#id,
      maybeEncodingError: true,
    });
    openPools.add(this);
  }

  /** Number of workers. */
  get processes(): number {
    return this.#processes;
  }

  /** The live workers (handles with pid and threadId), for tests and tools. */
  get _workers(): ReadonlyArray<{ pid: number; threadId: number }> {
    return this.#workers.workers;
  }

  #checkRunning(): void {
    if (this.#state !== 'RUN') throw new ValueError('Pool not running');
  }

  #chunks(
    fn: Function,
    items: unknown[] | Float64Array,
    chunksize: number,
    star: boolean,
    options: TaskOptions,
    settle: (index: number, ok: boolean, value: unknown) => void,
  ): Chunk[] {
    const chunks: Chunk[] = [];
    for (let start = 0, index = 0; start < items.length; start += chunksize, index++) {
      const i = index;
      const id = this.#workers.newChunkId();
      chunks.push({
        id,
        fn,
        star,
        items:
          chunksize === items.length && start === 0
            ? items
            : items instanceof Float64Array
              ? items.subarray(start, start + chunksize)
              : items.slice(start, start + chunksize),
        settle: (ok, value) => settle(i, ok, value),
        signal: options.signal,
        timeout: options.timeout,
        // Every field the worker set may set later, set now: one shape from the start. Added one by one, they
        // grew each chunk's property store twice more under a hub (report, startedAt): a chunksize-1 map of
        // 200,000 spent +40% of its time in garbage collection.
        worker: undefined,
        settled: false,
        timer: undefined,
        onAbort: undefined,
        cost: 0,
        report: undefined,
        startedAt: 0,
      });
    }
    return chunks;
  }

  #mapPromise<R>(fn: Function, iterable: Iterable<unknown>, star: boolean, options: MapOptions): Promise<R[]> {
    this.#checkRunning();
    this.#workers.checkTarget(fn);
    const items = Array.isArray(iterable) ? iterable : [...iterable];
    if (items.length === 0) return Promise.resolve([]);
    const chunksize = options.chunksize ?? defaultChunksize(items.length, this.#processes);
    if (!(chunksize >= 1)) throw new ValueError(`Chunksize must be 1+, not ${chunksize}`);
    return new Promise<R[]>((resolve, reject) => {
      const out: R[] = new Array(items.length);
      let remaining = Math.ceil(items.length / chunksize);
      let failed = false;
      // A map of numbers is packed once, whole, and each chunk is a view of it: no slice, no repacking per chunk.
      const packed = !star && this.#packs && chunksize >= PACKED_MIN ? packedNumbers(items) : undefined;
      const chunks = this.#chunks(fn, packed ?? items, chunksize, star, options, (index, ok, value) => {
        if (failed) return;
        if (!ok) {
          failed = true;
          reject(value);
          return;
        }
        const results = value as R[];
        const base = index * chunksize;
        for (let i = 0; i < results.length; i++) out[base + i] = results[i];
        if (--remaining === 0) resolve(out);
      });
      this.#workers.submit(chunks);
    });
  }

  /** Applies fn to each item; resolves with the results in order. Python: Pool.map */
  map<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T>, options: MapOptions = {}): Promise<Awaited<R>[]> {
    return this.#mapPromise(fn, iterable, false, options);
  }

  /** map() returning an AsyncResult at once. Python: Pool.map_async */
  mapAsync<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T>, options: MapOptions & AsyncOptions<Awaited<R>[]> = {}): AsyncResult<Awaited<R>[]> {
    return new AsyncResult(this.#mapPromise(fn, iterable, false, options), options);
  }

  /** Applies fn to each argument list, spread. Python: Pool.starmap */
  starmap<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, iterable: Iterable<A>, options: MapOptions = {}): Promise<Awaited<R>[]> {
    return this.#mapPromise(fn, iterable, true, options);
  }

  /** starmap() returning an AsyncResult at once. Python: Pool.starmap_async */
  starmapAsync<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    iterable: Iterable<A>,
    options: MapOptions & AsyncOptions<Awaited<R>[]> = {},
  ): AsyncResult<Awaited<R>[]> {
    return new AsyncResult(this.#mapPromise(fn, iterable, true, options), options);
  }

  #applyPromise<R>(fn: Function, args: unknown[], options: TaskOptions): Promise<R> {
    this.#checkRunning();
    this.#workers.checkTarget(fn);
    if (this.#maxQueue !== undefined && this.#workers.queuedCount >= this.#maxQueue) {
      return Promise.reject(new Full(`the pool's queue is full (maxQueue ${this.#maxQueue})`));
    }
    return new Promise<R>((resolve, reject) => {
      const chunks = this.#chunks(fn, [args], 1, true, options, (_i, ok, value) => (ok ? resolve((value as R[])[0]) : reject(value)));
      this.#workers.submit(chunks);
    });
  }

  /** Calls fn(...args) in a worker; resolves with its result. Python: Pool.apply */
  apply<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, args?: A, options: TaskOptions = {}): Promise<Awaited<R>> {
    return this.#applyPromise(fn, args ?? [], options);
  }

  /** apply() returning an AsyncResult at once. Python: Pool.apply_async */
  applyAsync<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, args?: A, options: AsyncOptions<Awaited<R>> = {}): AsyncResult<Awaited<R>> {
    return new AsyncResult(this.#applyPromise(fn, args ?? [], options), options);
  }

  #iterate<R>(fn: Function, iterable: Iterable<unknown>, star: boolean, ordered: boolean, options: MapOptions): IMapIterator<R> {
    this.#checkRunning();
    this.#workers.checkTarget(fn);
    const chunksize = options.chunksize ?? 1;
    if (!(chunksize >= 1)) throw new ValueError(`Chunksize must be 1+, not ${chunksize}`);
    if (iterable === null || typeof (iterable as Partial<Iterable<unknown>>)?.[Symbol.iterator] !== 'function') {
      throw new TypeError(`${typeof iterable === 'object' ? 'null' : typeof iterable} is not iterable`);
    }
    const feed = new IMapFeed<R>({
      source: iterable[Symbol.iterator](),
      chunksize,
      ordered,
      window: FEED_WINDOW_PER_WORKER * this.#processes,
      chunk: (index, items, settle) => this.#chunks(fn, items, items.length, star, options, (_i, ok, value) => settle(index, ok, value))[0],
      submit: (chunks) => this.#workers.submit(chunks),
      done: (f) => {
        this.#feeds.delete(f);
        if (this.#state !== 'RUN' && this.#feeds.size === 0) this.#workers.close();
      },
    });
    this.#feeds.add(feed);
    feed.fill();
    return feed.iterator;
  }

  /** Results in order as an async iterable. Python: Pool.imap */
  imap<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T>, options: MapOptions = {}): IMapIterator<Awaited<R>> {
    return this.#iterate(fn, iterable, false, true, options);
  }

  /** Results as they finish, as an async iterable. Python: Pool.imap_unordered */
  imapUnordered<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T>, options: MapOptions = {}): IMapIterator<Awaited<R>> {
    return this.#iterate(fn, iterable, false, false, options);
  }

  /** No more tasks; workers exit when the queue is done. Python: Pool.close */
  close(): void {
    if (this.#state === 'RUN') this.#state = 'CLOSE';
    // As Python's task handler, imap feeds still running are fed to the end; the workers close after them.
    for (const f of this.#feeds) f.drainAll();
    if (this.#feeds.size === 0) this.#workers.close();
    openPools.delete(this);
  }

  /** Stops the workers now; pending tasks reject. Python: Pool.terminate */
  terminate(): void {
    this.#state = 'TERMINATE';
    for (const f of [...this.#feeds]) f.stop();
    const error = new ProcessError('the pool was terminated before the task finished');
    this.#workers.terminate(error);
    openPools.delete(this);
  }

  /** Waits for the workers to exit; call close() or terminate() first. Python: Pool.join */
  async join(): Promise<void> {
    if (this.#state === 'RUN') throw new ValueError('Pool is still running');
    await this.#workers.joined();
  }

  /** `using pool = new Pool()` terminates at scope end, as Python's `with Pool()`. */
  [Symbol.dispose](): void {
    this.terminate();
  }

  /** `await using pool = new Pool()` terminates and waits for the workers. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.#workers.joined();
  }

  get [Symbol.toStringTag](): string {
    return `Pool state=${this.#state} pool_size=${this.#processes}`;
  }
}

atExit(() => {
  if (openPools.size > 0 && self.isMain) {
    process.stderr.write(
      `forkscope: ${openPools.size} pool(s) were not closed; their workers are ended at exit (call close() and join(), or use \`await using\`)\n`,
    );
  }
});
