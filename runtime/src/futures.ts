// concurrent.futures for TypeScript: Future, ProcessPoolExecutor, wait, asCompleted and their constants.
// A worker that dies breaks the executor (BrokenProcessPool), as in Python. Parent side; Node's modules only.
import { BrokenProcessPool, CancelledError, InvalidStateError, RuntimeError, TimeoutError, ValueError } from './errors';
import { WorkerSet, type Chunk, type TaskSet } from './workers';
import { remoteBackendOf } from './bullmq/context';
import { RemoteTaskSet } from './bullmq/remoteTaskSet';
import { cpuCount, self } from './process';
import { resolveStartMethod, type PoolOptions } from './pool';
import { ensureForkserver } from './forkserver';
import * as telemetry from './telemetry';
import { readTimeout, deadlineOf } from './timeouts';

/** wait() returns when any future finishes or is cancelled. Python: concurrent.futures.FIRST_COMPLETED */
export const FIRST_COMPLETED = 'FIRST_COMPLETED';
/** wait() returns when any future fails, or all finish. Python: concurrent.futures.FIRST_EXCEPTION */
export const FIRST_EXCEPTION = 'FIRST_EXCEPTION';
/** wait() returns when all futures finish. Python: concurrent.futures.ALL_COMPLETED */
export const ALL_COMPLETED = 'ALL_COMPLETED';
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

type State = 'PENDING' | 'RUNNING' | 'CANCELLED' | 'FINISHED';

/**
 * The eventual result of a submitted call: Promise-compatible, with Python's methods.
 * Python: concurrent.futures.Future
 */
export class Future<T = unknown> implements PromiseLike<T> {
  #state: State = 'PENDING';
  #result: T | undefined;
  #error: unknown;
  #failed = false;
  #callbacks: Array<(f: Future<T>) => void> = [];
  #waiters: Array<() => void> = [];
  #onCancel: (() => boolean) | undefined;
  #promise: Promise<T> | undefined;
  /** Python's CANCELLED_AND_NOTIFIED: whoever runs the Future has seen its cancellation. */
  #notified = false;
  #settledListeners: Array<() => void> = [];

  /** Python: Future.cancel — succeeds only while pending. */
  cancel(): boolean {
    if (this.#state === 'RUNNING' || this.#state === 'FINISHED') return false;
    if (this.#state === 'CANCELLED') return true;
    if (this.#onCancel && !this.#onCancel()) return false;
    this.#state = 'CANCELLED';
    // An executor's Future was taken back from its queue just now: the executor has noticed (CANCELLED_AND_NOTIFIED).
    if (this.#onCancel) this.#notified = true;
    this.#finish();
    return true;
  }

  /** Python: Future.cancelled */
  cancelled(): boolean {
    return this.#state === 'CANCELLED';
  }

  /** Python: Future.running */
  running(): boolean {
    return this.#state === 'RUNNING';
  }

  /** Python: Future.done */
  done(): boolean {
    return this.#state === 'CANCELLED' || this.#state === 'FINISHED';
  }

  async #waitDone(timeout: number | undefined): Promise<void> {
    if (this.done()) return;
    if (timeout === 0) throw new TimeoutError('the future did not finish in time');
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(waiter);
      if (timeout !== undefined && timeout !== null) {
        timer = setTimeout(
          () => {
            this.#waiters = this.#waiters.filter((w) => w !== waiter);
            reject(new TimeoutError('the future did not finish in time'));
          },
          Math.max(0, timeout),
        );
      }
    });
  }

  /** The result; rejects with the call's error, CancelledError or TimeoutError. Python: Future.result */
  async result(options?: number | { timeout?: number }): Promise<T> {
    await this.#waitDone(readTimeout(options, 'Future.result', true));
    if (this.#state === 'CANCELLED') throw new CancelledError();
    if (this.#failed) throw this.#error;
    return this.#result as T;
  }

  /** The call's error, or null. Python: Future.exception */
  async exception(options?: number | { timeout?: number }): Promise<unknown> {
    await this.#waitDone(readTimeout(options, 'Future.exception', true));
    if (this.#state === 'CANCELLED') throw new CancelledError();
    return this.#failed ? this.#error : null;
  }

  /** Calls fn(future) when done (at once if already done). Python: Future.add_done_callback */
  addDoneCallback(fn: (future: Future<T>) => void): void {
    if (this.done()) this.#call(fn);
    else this.#callbacks.push(fn);
  }

  #call(fn: (future: Future<T>) => void): void {
    try {
      fn(this);
    } catch (error) {
      process.stderr.write(`exception calling callback for ${this}: ${error instanceof Error ? error.stack : String(error)}\n`);
    }
  }

  #finish(): void {
    for (const w of this.#waiters.splice(0)) w();
    for (const cb of this.#callbacks.splice(0)) this.#call(cb);
    if (this._settled) for (const l of this.#settledListeners.splice(0)) l();
  }

  /**
   * PENDING → RUNNING (true), or CANCELLED → CANCELLED_AND_NOTIFIED (false); RuntimeError in any other state.
   * Python: Future.set_running_or_notify_cancel
   */
  setRunningOrNotifyCancel(): boolean {
    if (this.#state === 'CANCELLED') {
      if (!this.#notified) {
        this.#notified = true;
        for (const l of this.#settledListeners.splice(0)) l();
      }
      return false;
    }
    if (this.#state !== 'PENDING') throw new RuntimeError(`Future in unexpected state: ${this.#state}`);
    this.#state = 'RUNNING';
    return true;
  }

  /**
   * Finished, or cancelled and noticed by whoever runs it: what wait() and asCompleted() count as complete
   * (Python's FINISHED and CANCELLED_AND_NOTIFIED; a cancelled Future nobody has noticed stays not done there).
   */
  get _settled(): boolean {
    return this.#state === 'FINISHED' || (this.#state === 'CANCELLED' && this.#notified);
  }

  /** Calls `fn` once the Future is settled (at once if it is): wait()'s and asCompleted()'s waiter. */
  _whenSettled(fn: () => void): void {
    if (this._settled) fn();
    else this.#settledListeners.push(fn);
  }

  /** Python: Future.set_result — InvalidStateError once the Future is done. */
  setResult(value: T): void {
    if (this.done()) throw new InvalidStateError(`${this.#state}: the Future is already done; its result or exception is set only once`);
    this.#state = 'FINISHED';
    this.#result = value;
    this.#finish();
  }

  /** Python: Future.set_exception — InvalidStateError once the Future is done. */
  setException(error: unknown): void {
    if (this.done()) throw new InvalidStateError(`${this.#state}: the Future is already done; its result or exception is set only once`);
    this.#state = 'FINISHED';
    this.#failed = true;
    this.#error = error;
    this.#finish();
  }

  /** True when done with an error (synchronously, for wait()). */
  get _failed(): boolean {
    return this.#failed;
  }

  /** The executor's hook: whether a pending call may still be taken back. */
  _onCancel(fn: () => boolean): void {
    this.#onCancel = fn;
  }

  #asPromise(): Promise<T> {
    this.#promise ??= this.result();
    return this.#promise;
  }

  then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#asPromise().then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.#asPromise().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#asPromise().finally(onFinally);
  }

  get [Symbol.toStringTag](): string {
    return `Future state=${this.#state.toLowerCase()}`;
  }
}

export interface ExecutorOptions extends Omit<PoolOptions, 'processes' | 'maxQueue'> {
  /** Number of workers. @default cpuCount() */
  maxWorkers?: number;
}

export interface ExecutorMapOptions {
  /** Milliseconds from the call until each result must be ready, else TimeoutError. */
  timeout?: number;
  /** Items per task. @default 1 */
  chunksize?: number;
}

/** Async iterable of results in order that can also be awaited as an array. */
export interface MapResults<R> extends AsyncIterableIterator<R>, PromiseLike<R[]> {}

/**
 * Runs calls in worker processes and returns Futures; a dead worker breaks it with BrokenProcessPool.
 * Python: concurrent.futures.ProcessPoolExecutor
 */
export class ProcessPoolExecutor {
  #workers: TaskSet;
  #shutdown = false;
  #futures = new Set<Future<unknown>>();
  #maxWorkers: number;

  constructor(options: ExecutorOptions = {}) {
    const maxWorkers = options.maxWorkers ?? cpuCount();
    if (!Number.isInteger(maxWorkers) || maxWorkers <= 0) throw new ValueError('max_workers must be greater than 0');
    this.#maxWorkers = maxWorkers;
    const id = telemetry.objectCreated('Pool', { capacity: maxWorkers, label: 'ProcessPoolExecutor', site: telemetry.callSite() });
    // On a cluster a worker's death is not the executor's: BullMQ retries or fails the job, and only that future fails.
    const backend = remoteBackendOf(options.context);
    if (backend) {
      this.#workers = new RemoteTaskSet(backend, { processes: maxWorkers, poolId: id });
      return;
    }
    const method = resolveStartMethod(options.context);
    if (method === 'forkserver') ensureForkserver(self.mainModule, Math.min(maxWorkers, 4));
    this.#workers = new WorkerSet({
      processes: maxWorkers,
      startMethod: method,
      initializer: options.initializer,
      initargs: options.initargs,
      maxTasksPerChild: options.maxTasksPerChild,
      onDeath: 'break',
      workerName: method === 'thread' ? 'ThreadProcess' : method === 'forkserver' ? 'ForkServerProcess' : 'SpawnProcess',
      poolId: id,
      onDemand: true,
    });
  }

  /** Number of workers. */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  #check(): void {
    const broken = this.#workers.broken;
    if (broken) throw new BrokenProcessPool(broken.message);
    if (this.#shutdown) throw new RuntimeError('cannot schedule new futures after shutdown');
  }

  #submitChunk<V>(fn: Function, items: unknown[], star: boolean, pick: (values: unknown[]) => V): Future<V> {
    const future = new Future<V>();
    const chunk: Chunk = {
      id: this.#workers.newChunkId(),
      fn,
      star,
      items,
      settle: (ok, value) => {
        // A Future cancelled while its chunk was already on the way keeps its cancellation.
        if (future.done()) return;
        if (ok) future.setResult(pick(value as unknown[]));
        else future.setException(value);
      },
      onStart: () => void (future.done() || future.running() || future.setRunningOrNotifyCancel()),
    };
    future._onCancel(() => this.#workers.cancelQueued(chunk, new CancelledError()));
    this.#futures.add(future as Future<unknown>);
    future.addDoneCallback(() => this.#futures.delete(future as Future<unknown>));
    this.#workers.submit([chunk]);
    return future;
  }

  /** Schedules fn(...args) and returns its Future at once. Python: Executor.submit */
  submit<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, ...args: A): Future<Awaited<R>> {
    this.#check();
    this.#workers.checkTarget(fn);
    return this.#submitChunk(fn, [args], true, (values) => values[0] as Awaited<R>);
  }

  /** Applies fn to items zipped from the iterables; results in order. Python: Executor.map */
  map<R>(fn: (...args: any[]) => R | Promise<R>, ...rest: Array<Iterable<unknown> | ExecutorMapOptions>): MapResults<Awaited<R>> {
    this.#check();
    this.#workers.checkTarget(fn);
    const last = rest[rest.length - 1];
    const options: ExecutorMapOptions = last && typeof last === 'object' && !(Symbol.iterator in last) ? (rest.pop() as ExecutorMapOptions) : {};
    const lists = (rest as Array<Iterable<unknown>>).map((it) => [...it]);
    const length = lists.length === 0 ? 0 : Math.min(...lists.map((l) => l.length));
    const argsList: unknown[][] = [];
    for (let i = 0; i < length; i++) argsList.push(lists.map((l) => l[i]));
    const chunksize = options.chunksize ?? 1;
    if (!(chunksize >= 1)) throw new ValueError('chunksize must be >= 1.');
    const deadline = deadlineOf(readTimeout(options, 'Executor.map'));
    const futures: Array<Future<Awaited<R>[]>> = [];
    for (let i = 0; i < argsList.length; i += chunksize)
      futures.push(this.#submitChunk(fn, argsList.slice(i, i + chunksize), true, (values) => Array.from(values) as Awaited<R>[]));
    let index = 0;
    let buffer: Awaited<R>[] = [];
    let at = 0;
    const iterator: MapResults<Awaited<R>> = {
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async next(): Promise<IteratorResult<Awaited<R>>> {
        while (at >= buffer.length) {
          if (index >= futures.length) return { done: true, value: undefined };
          const f = futures[index++];
          try {
            buffer = await f.result({ timeout: deadline === undefined ? undefined : Math.max(0, deadline - Date.now()) });
          } catch (error) {
            for (const rest of futures.slice(index)) rest.cancel();
            throw error;
          }
          at = 0;
        }
        return { done: false, value: buffer[at++] };
      },
      async return(): Promise<IteratorResult<Awaited<R>>> {
        for (const f of futures.slice(index)) f.cancel();
        index = futures.length;
        return { done: true, value: undefined };
      },
      then(onFulfilled, onRejected) {
        const all = (async () => {
          const out: Awaited<R>[] = [];
          for await (const v of iterator) out.push(v);
          return out;
        })();
        return all.then(onFulfilled, onRejected);
      },
    };
    return iterator;
  }

  /** Stops taking calls; `wait` (default true) waits for the workers; `cancelFutures` cancels pending ones. Python: Executor.shutdown */
  async shutdown(options: { wait?: boolean; cancelFutures?: boolean } = {}): Promise<void> {
    this.#shutdown = true;
    if (options.cancelFutures) for (const f of [...this.#futures]) f.cancel();
    this.#workers.close();
    if (options.wait ?? true) await this.#workers.joined();
  }

  /** `await using executor = new ProcessPoolExecutor()` shuts down and waits, as Python's `with`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }
}

/** Waits for futures; resolves `{ done, notDone }` as Sets. Python: concurrent.futures.wait */
export async function wait<T>(
  fs: Iterable<Future<T>>,
  options: { timeout?: number; returnWhen?: ReturnWhen } = {},
): Promise<{ done: Set<Future<T>>; notDone: Set<Future<T>> }> {
  const timeout = readTimeout(options, 'wait');
  const all = new Set(fs);
  const returnWhen = options.returnWhen ?? ALL_COMPLETED;
  if (![FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED].includes(returnWhen)) throw new ValueError(`Invalid return condition: ${String(returnWhen)}`);
  const split = () => {
    const done = new Set([...all].filter((f) => f._settled));
    const notDone = new Set([...all].filter((f) => !f._settled));
    return { done, notDone };
  };
  const satisfied = (): boolean => {
    const { done, notDone } = split();
    if (notDone.size === 0) return true;
    if (returnWhen === FIRST_COMPLETED) return done.size > 0;
    if (returnWhen === FIRST_EXCEPTION) return [...done].some((f) => f._failed);
    return false;
  };
  if (satisfied()) return split();
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve();
    };
    for (const f of all) f._whenSettled(() => satisfied() && finish());
    if (timeout !== undefined) timer = setTimeout(finish, timeout);
  });
  return split();
}

/**
 * A Future as asCompleted() types it. TypeScript types `for await` values as awaited, which would turn a
 * Promise-compatible Future into its result; at run time the value IS the Future (`instanceof Future`).
 */
export type CompletedFuture<T> = Omit<Future<T>, 'then' | 'catch' | 'finally'> & { readonly then?: undefined };

/** Yields the futures themselves as they finish; TimeoutError if `timeout` ms pass first. Python: concurrent.futures.as_completed */
export function asCompleted<T>(fs: Iterable<Future<T>>, options: { timeout?: number } = {}): AsyncIterableIterator<CompletedFuture<T>> {
  // A hand-written iterator: an async generator would await each yielded Future (they are thenables).
  const deadline = deadlineOf(readTimeout(options, 'asCompleted'));
  const pending = new Set(fs);
  const finished: Future<T>[] = [];
  let wake: (() => void) | undefined;
  for (const f of pending) {
    f._whenSettled(() => {
      finished.push(f);
      wake?.();
    });
  }
  let yielded = 0;
  const total = pending.size;
  const iterator: AsyncIterableIterator<CompletedFuture<T>> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next(): Promise<IteratorResult<CompletedFuture<T>>> {
      while (yielded < total) {
        if (finished.length > 0) {
          yielded++;
          return { done: false, value: finished.shift()! as unknown as CompletedFuture<T> };
        }
        const remaining = deadline === undefined ? undefined : deadline - Date.now();
        if (remaining !== undefined && remaining <= 0) throw new TimeoutError(`${total - yielded} (of ${total}) futures unfinished`);
        await new Promise<void>((resolve) => {
          let timer: NodeJS.Timeout | undefined;
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          if (remaining !== undefined) timer = setTimeout(resolve, remaining);
        });
        wake = undefined;
      }
      return { done: true, value: undefined };
    },
    async return(): Promise<IteratorResult<CompletedFuture<T>>> {
      yielded = total;
      return { done: true, value: undefined };
    },
  };
  return iterator;
}
