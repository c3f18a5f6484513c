// The worker set behind Pool and ProcessPoolExecutor: starts workers, batches chunks to them, replaces
// a dead worker (failing only the chunk it was running) or breaks the whole set, as the owner asks.
// Parent side only; Node's modules only.
import { WorkerDiedError, TimeoutError, ProcessError, BrokenProcessPool, PicklingError } from './errors';
import { encode, decodeAsync, decodeThrownAsync, isPlainData, packedNumbers } from './serialize';
import { findTarget, type TargetRef } from './targets';
import { spawnChild, startThread, type ChildHandle, type StartPayload } from './popen';
import { startFromForkserver } from './forkserver';
import { self, selfKey, nextIdentity, currentProcess, checkNotBootstrapping, listWorker, reportChildExit, reportChildStart } from './process';
import { processKey, type PoolActivity, type StartMethod } from './protocol';
import * as telemetry from './telemetry';
import { getLogger } from './logging';
import { isPauseAccounting, pausedWithin } from './debugSentinel';
import type { FromWorker, ToWorker, WireChunk } from './poolWorker';
import type { TransferListItem } from 'node:worker_threads';

/** One unit sent to a worker: a slice of a map, or one apply. */
export interface Chunk {
  id: number;
  fn: Function;
  star: boolean;
  /** A map's slice; numbers packed once by the Pool come as a view of one Float64Array (never for a starmap). */
  items: unknown[] | Float64Array;
  /** `value` when ok: the results in order, an Array or (all numbers) a Float64Array; index it, do not hand it out. */
  settle(ok: boolean, value: unknown): void;
  /** Set while a worker holds it. */
  worker?: Slot;
  settled?: boolean;
  signal?: AbortSignal;
  timeout?: number;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
  /** Estimated microseconds, while a worker holds it. */
  cost?: number;
  /** Called when the chunk leaves the queue for a worker (onDemand: when it enters the call queue). */
  onStart?: () => void;
  /** onDemand: in Python's call queue (workers + 1 deep), so it can no longer be cancelled. */
  committed?: boolean;
  /** Under a hub: reported one by one (`task` events), or only counted (`pool` events). */
  report?: 'detailed' | 'counted';
  /** Counted chunks: when a worker took it (ms since the epoch). */
  startedAt?: number;
}

interface Slot {
  handle: ChildHandle;
  name: string;
  ready: boolean;
  outstanding: Map<number, Chunk>;
  sentTargets: Set<number>;
  dispatched: number;
  /** Microseconds per item, measured by the worker; -1 until known. */
  avgItemUs: number;
  /** Estimated microseconds of work the worker holds. */
  cost: number;
  retiring: boolean;
  startedAt: number;
  expectedExit: boolean;
}

export interface WorkerSetOptions {
  processes: number;
  startMethod: StartMethod;
  initializer?: Function;
  initargs?: unknown[];
  maxTasksPerChild?: number;
  /** `replace`: Pool semantics; `break`: the executor's BrokenProcessPool semantics. */
  onDeath: 'replace' | 'break';
  /** Prefix of worker names: `SpawnPoolWorker`. */
  workerName: string;
  poolId: string;
  /**
   * The executor's workers, as Python's ProcessPoolExecutor: started on demand (a submit starts one while no
   * worker is idle, up to `processes`) and listed by activeChildren() as Process objects.
   */
  onDemand?: boolean;
  /** Pool: a result that cannot be sent back fails as MaybeEncodingError (the executor's: PicklingError), as Python. */
  maybeEncodingError?: boolean;
}

/** A worker that dies before it is ready this many times in a row fails the set instead of respawning. */
const MAX_STARTUP_FAILURES = 3;
const MAX_WINDOW = 1024;
/** How much estimated work (µs) a worker may hold: enough to cover a round trip, small enough to balance. */
const BUDGET_US = 20_000;
/** How often a task timer whose worker is paused in a debugger looks again. */
const PAUSED_RECHECK_MS = 250;
/**
 * Under a hub, this many tasks per interval are reported one by one (each a span in the trace); the rest are only
 * counted, in one `pool` event per flush: three events per tiny task cost a chunksize-1 map half its speed.
 */
const DETAILED_TASKS_PER_INTERVAL = 32;
const DETAIL_INTERVAL_MS = 200;

/** What Pool and ProcessPoolExecutor run tasks on: a local WorkerSet, or the bullmq backend's RemoteTaskSet. */
export type TaskSet = Pick<
  WorkerSet,
  | 'broken'
  | 'pendingCount'
  | 'queuedCount'
  | 'workers'
  | 'checkTarget'
  | 'newChunkId'
  | 'submit'
  | 'cancelQueued'
  | 'close'
  | 'terminate'
  | 'joined'
  | 'closing'
>;

export class WorkerSet {
  #options: WorkerSetOptions;
  #queue: Chunk[] = [];
  #head = 0;
  #slots = new Set<Slot>();
  #targets = new Map<Function, { id: number; ref: TargetRef }>();
  #nextChunk = 1;
  #startupFailures = 0;
  #broken: Error | undefined;
  #closing = false;
  #terminated = false;
  #allExited: Promise<void>;
  #markExited!: () => void;
  #respawnTimer: NodeJS.Timeout | undefined;
  #refed = true;
  #inlineRunning = false;
  #inlineInitialised = false;
  #retiredAll = false;
  #onBroken: ((error: Error) => void) | undefined;
  /** onDemand: Python's idle-worker semaphore, one token per result a worker returned (it is free again). */
  #idleTokens = 0;
  /** onDemand: chunks in the call queue or at a worker, not yet settled. */
  #committed = 0;
  /** The `pool` event being summed, already in telemetry's batch; closed (busy filled in) just before it is sent. */
  #counts: PoolActivity | undefined;
  #unhookCounts: (() => void) | undefined;
  #detailWindow = 0;
  #detailLeft = 0;

  constructor(options: WorkerSetOptions, onBroken?: (error: Error) => void) {
    this.#options = options;
    this.#onBroken = onBroken;
    this.#allExited = new Promise((r) => (this.#markExited = r));
    if (options.startMethod === 'inline') return;
    checkNotBootstrapping();
    if (options.initializer) findTarget(options.initializer);
    if (!options.onDemand) for (let i = 0; i < options.processes; i++) this.#spawn();
    this.#updateRef();
  }

  get broken(): Error | undefined {
    return this.#broken;
  }

  get pendingCount(): number {
    let running = 0;
    for (const s of this.#slots) running += s.outstanding.size;
    return this.#queue.length - this.#head + running;
  }

  get queuedCount(): number {
    return this.#queue.length - this.#head;
  }

  /** The pids (or pid/threadId keys) of live workers. */
  get workers(): ChildHandle[] {
    return [...this.#slots].map((s) => s.handle);
  }

  /** Checks the target can be found by a child: throws at the call site when it cannot. */
  checkTarget(fn: Function): void {
    if (this.#options.startMethod !== 'inline') this.#target(fn);
  }

  #target(fn: Function): { id: number; ref: TargetRef } {
    let t = this.#targets.get(fn);
    if (!t) {
      t = { id: this.#targets.size + 1, ref: findTarget(fn) };
      this.#targets.set(fn, t);
    }
    return t;
  }

  newChunkId(): number {
    return this.#nextChunk++;
  }

  /** Queues chunks; they are dispatched at once when a worker has room. */
  submit(chunks: Chunk[]): void {
    if (this.#broken) {
      for (const c of chunks) this.#settle(c, false, this.#broken);
      return;
    }
    if (telemetry.isReporting()) this.#queued(chunks);
    for (const c of chunks) {
      this.#queue.push(c);
      if (c.timeout !== undefined && c.timeout !== null) this.#armTimeout(c, Date.now(), c.timeout);
      if (c.signal) {
        if (c.signal.aborted) {
          this.#expire(c, abortReason(c.signal));
          continue;
        }
        c.onAbort = () => this.#expire(c, abortReason(c.signal!));
        c.signal.addEventListener('abort', c.onAbort, { once: true });
      }
      if (this.#options.onDemand) this.#adjustProcessCount();
    }
    this.#dispatch();
  }

  /** Python's ProcessPoolExecutor._adjust_process_count: a worker that is free takes the task, else one more starts. */
  #adjustProcessCount(): void {
    // Inline runs every call in this process: there is no worker to start.
    if (this.#options.startMethod === 'inline') return;
    if (this.#idleTokens > 0) {
      this.#idleTokens--;
      return;
    }
    if (this.#slots.size < this.#options.processes && !this.#closing && !this.#terminated) this.#spawn();
  }

  /**
   * A task's timeout counts only time its worker was not paused in a debugger: on expiry, under a debug session,
   * the time this process or the worker (any worker, while the task is queued) sat paused is given back, and a
   * worker still paused is waited for. Without a debugger the timer simply expires.
   */
  #armTimeout(c: Chunk, since: number, delay: number): void {
    c.timer = setTimeout(
      () => {
        if (c.settled) return;
        if (isPauseAccounting()) {
          const now = Date.now();
          const self = { pid: process.pid, threadId: 0 };
          const workers = c.worker ? [c.worker.handle] : [...this.#slots].map((s) => s.handle);
          const { pausedMs, pausedNow } = pausedWithin([self, ...workers.map((w) => ({ pid: w.pid, threadId: w.threadId ?? 0 }))], since, now);
          if (pausedNow) return this.#armTimeout(c, since, PAUSED_RECHECK_MS);
          const left = c.timeout! - (now - since - pausedMs);
          if (left > 0) return this.#armTimeout(c, since, left);
        }
        this.#expire(c, new TimeoutError(`task ${c.id} (${c.fn.name || 'anonymous'}) timed out after ${c.timeout} ms`));
      },
      Math.max(0, delay),
    );
  }

  /** A queued chunk is dropped; a running one fails and its worker is killed (the only way to stop a task). */
  #expire(c: Chunk, error: unknown): void {
    if (c.settled) return;
    const slot = c.worker;
    this.#settle(c, false, error);
    if (slot) {
      slot.outstanding.delete(c.id);
      slot.expectedExit = true;
      this.#requeue(slot);
      slot.handle.kill('SIGKILL');
    }
  }

  /**
   * Reports chunks entering the queue: one by one while this interval's budget lasts, the rest in the counts with one
   * addition for the whole batch (a chunksize-1 map submits 200,000 at once; one clock read for them all).
   */
  #queued(chunks: Chunk[]): void {
    const now = Date.now();
    if (now - this.#detailWindow >= DETAIL_INTERVAL_MS) {
      this.#detailWindow = now;
      this.#detailLeft = DETAILED_TASKS_PER_INTERVAL;
    }
    const detailed = Math.min(this.#detailLeft, chunks.length);
    this.#detailLeft -= detailed;
    for (let i = 0; i < detailed; i++) {
      chunks[i]!.report = 'detailed';
      this.#task(chunks[i]!, 'queued');
    }
    if (detailed === chunks.length) return;
    for (let i = detailed; i < chunks.length; i++) chunks[i]!.report = 'counted';
    this.#count().queued += chunks.length - detailed;
  }

  #count(): PoolActivity {
    if (this.#counts) return this.#counts;
    const e: PoolActivity = {
      t: 'pool',
      ts: Date.now(),
      pool: this.#options.poolId,
      queued: 0,
      started: 0,
      returned: 0,
      dropped: 0,
      finished: 0,
      runMs: 0,
      done: 0,
      failed: 0,
      busy: [],
    };
    this.#counts = e;
    this.#unhookCounts ??= telemetry.beforeFlush(() => this.#closeCounts());
    // In the batch from now on; the counters below change it in place until the flush closes it.
    telemetry.emit(e);
    return e;
  }

  #closeCounts(): void {
    const e = this.#counts;
    if (!e) return;
    this.#counts = undefined;
    e.ts = Date.now();
    for (const s of this.#slots) if (s.outstanding.size > 0) e.busy.push(processKey(s.handle.pid, s.handle.threadId));
  }

  #task(c: Chunk, op: 'queued' | 'started' | 'done' | 'failed' | 'cancelled', error?: unknown): void {
    const worker = c.worker ? processKey(c.worker.handle.pid, c.worker.handle.threadId) : undefined;
    const text = error === undefined ? undefined : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    telemetry.emit({ t: 'task', ts: Date.now(), pool: this.#options.poolId, task: c.id, op, worker, fn: c.fn.name || undefined, error: text });
  }

  /** `now`: the clock when a batch of results came in (one read for them all), else read here when needed. */
  #settle(c: Chunk, ok: boolean, value: unknown, now?: number): void {
    if (c.settled) return;
    if (c.committed) this.#committed--;
    if (c.report === 'detailed') {
      this.#task(c, ok ? 'done' : 'failed', ok ? undefined : value);
      // A counted interval sent earlier may have listed this worker busy, and the hub keeps that list until the next
      // one: with no counted task left to send it, the worker stayed busy after its last task (seen once in CI).
      if (c.worker && c.worker.outstanding.size === 0) this.#count();
    } else if (c.report === 'counted') {
      const e = this.#count();
      if (c.worker) {
        e.finished++;
        e.runMs += Math.max(0, (now ?? Date.now()) - c.startedAt!);
      } else e.dropped++;
      if (ok) e.done++;
      else e.failed++;
    }
    c.settled = true;
    if (c.timer) clearTimeout(c.timer);
    if (c.onAbort) c.signal?.removeEventListener('abort', c.onAbort);
    c.settle(ok, value);
  }

  /** Cancels a chunk still in the queue; false once a worker has it. */
  cancelQueued(c: Chunk, error: unknown): boolean {
    if (c.settled || c.worker || c.committed) return false;
    // Settled quietly: the owner (a Future) records the cancellation itself.
    if (c.report === 'detailed') this.#task(c, 'cancelled');
    else if (c.report === 'counted') this.#count().dropped++;
    c.settled = true;
    if (c.timer) clearTimeout(c.timer);
    if (c.onAbort) c.signal?.removeEventListener('abort', c.onAbort);
    void error;
    // Dispatching drops it from the queue, and lets a closing set retire once nothing else is pending.
    this.#dispatch();
    return true;
  }

  #spawn(): void {
    const identity = nextIdentity();
    const name = `${this.#options.workerName}-${identity.join(':')}`;
    const method = this.#options.startMethod;
    const context = { startMethod: method, transfer: [] };
    const payload: StartPayload = {
      kind: 'worker',
      main: self.mainModule,
      name,
      identity,
      daemon: true,
      startMethod: method as 'spawn' | 'thread' | 'forkserver',
      parentKey: selfKey(),
      parentName: currentProcess().name,
      initializer: this.#options.initializer ? findTarget(this.#options.initializer) : undefined,
      initargs: encode(this.#options.initargs ?? [], context, 'initargs'),
      authkey: currentProcess().authkey.toString('hex'),
      logLevel: getLogger().getEffectiveLevel(),
      maybeEncodingError: this.#options.maybeEncodingError === true,
    };
    const handle =
      method === 'thread'
        ? startThread(payload, context.transfer)
        : method === 'forkserver'
          ? startFromForkserver(payload)
          : spawnChild(payload, context.transfer, false);
    // Python's pool and executor workers are Process objects of the program's (active_children() lists them).
    listWorker(sharedRef(handle), name, identity, method);
    const slot: Slot = {
      handle,
      name,
      ready: false,
      outstanding: new Map(),
      sentTargets: new Set(),
      dispatched: 0,
      avgItemUs: -1,
      cost: 0,
      retiring: false,
      startedAt: Date.now(),
      expectedExit: false,
    };
    this.#slots.add(slot);
    if (!this.#refed) handle.unref();
    handle.onMessage((m) => this.#onMessage(slot, m as FromWorker));
    handle.onExit((code, signal) => this.#onExit(slot, code, signal));
    reportChildStart(handle, { name, startMethod: method, role: 'worker', daemon: true, pool: this.#options.poolId });
  }

  #onMessage(slot: Slot, message: FromWorker): void {
    if (message.t === 'ready') {
      slot.ready = true;
      this.#dispatch();
      return;
    }
    if (message.t !== 'results') return;
    this.#startupFailures = 0;
    let items = 0;
    for (const [, ok, value] of message.r) items += ok === 1 ? Math.max(1, (value as unknown[]).length) : 1;
    if (items > 0) {
      const per = message.us / items;
      slot.avgItemUs = slot.avgItemUs < 0 ? per : slot.avgItemUs * 0.7 + per * 0.3;
    }
    const now = telemetry.isReporting() ? Date.now() : undefined;
    for (const [id, ok, value] of message.r) {
      const c = slot.outstanding.get(id);
      if (!c) continue;
      slot.outstanding.delete(id);
      if (this.#options.onDemand) this.#idleTokens++;
      slot.cost -= c.cost ?? 0;
      // A chunk of numbers stays a Float64Array: whoever gathers results indexes it, and boxing 100,000 doubles into
      // an Array first cost 7-10 ms per chunk (pool.map's default chunksize).
      if (ok === 1 && (value instanceof Float64Array || isPlainData(value))) this.#settle(c, true, value, now);
      else {
        // Errors come back as their own class, functions by reference: their modules may need importing first.
        (ok === 1 ? decodeAsync(value) : decodeThrownAsync(value)).then(
          (decoded) => this.#settle(c, ok === 1, decoded),
          (error: unknown) => this.#settle(c, false, error),
        );
      }
    }
    const max = this.#options.maxTasksPerChild;
    if (max && slot.dispatched >= max && slot.outstanding.size === 0 && !slot.retiring) {
      slot.retiring = true;
      slot.expectedExit = true;
      slot.handle.send({ t: 'exit' } satisfies ToWorker);
      if (!this.#closing && !this.#terminated) this.#spawn();
    }
    this.#dispatch();
  }

  #requeue(slot: Slot): void {
    const back = [...slot.outstanding.values()].filter((c) => !c.settled);
    slot.outstanding.clear();
    slot.cost = 0;
    for (const c of back) {
      c.worker = undefined;
      if (c.report === 'counted') this.#count().returned++;
    }
    // Requeued chunks go first, in their order, so results keep flowing in order.
    this.#queue.splice(this.#head, 0, ...back);
  }

  #onExit(slot: Slot, exitCode: number, signal: NodeJS.Signals | null): void {
    this.#slots.delete(slot);
    reportChildExit(slot.handle, exitCode, signal);
    const unexpected = !slot.expectedExit && !this.#terminated && !(this.#closing && slot.outstanding.size === 0);
    if (unexpected) {
      const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
      const pid = slot.handle.threadId ? `${slot.handle.pid}/${slot.handle.threadId}` : String(slot.handle.pid);
      if (this.#options.onDeath === 'break') {
        this.#break(
          new BrokenProcessPool(
            `A process in the process pool was terminated abruptly while the future was running or pending (${slot.name}, pid ${pid}, ${how}).`,
          ),
        );
      } else if (!slot.ready) {
        this.#startupFailures++;
        if (this.#startupFailures >= MAX_STARTUP_FAILURES) {
          this.#break(
            new ProcessError(
              `pool worker ${slot.name} (pid ${pid}) ${how} while starting, ${this.#startupFailures} times in a row; the pool is broken (does the initializer or the main module throw?)`,
            ),
          );
        }
      } else {
        const outstanding = [...slot.outstanding.values()];
        const first = outstanding.find((c) => !c.settled);
        if (first) {
          slot.outstanding.delete(first.id);
          const fn = first.fn.name || 'anonymous';
          this.#settle(
            first,
            false,
            new WorkerDiedError(`pool worker ${slot.name} (pid ${pid}) ${how} while running task ${first.id} (${fn})`, {
              pid: slot.handle.pid,
              signal,
              exitCode: signal ? null : exitCode,
            }),
          );
        }
      }
    }
    this.#requeue(slot);
    if (this.#broken) {
      this.#failQueue(this.#broken);
    } else if (!this.#terminated && !this.#closing && this.#slots.size < this.#options.processes && !slot.retiring) {
      const delay = this.#startupFailures === 0 ? 0 : Math.min(1000, 100 * 2 ** (this.#startupFailures - 1));
      if (delay === 0) this.#spawn();
      else {
        this.#respawnTimer = setTimeout(() => {
          this.#respawnTimer = undefined;
          if (!this.#terminated && !this.#broken) {
            this.#spawn();
            this.#dispatch();
          }
        }, delay);
      }
    } else if (this.#closing && !this.#terminated && this.queuedCount > 0 && this.#slots.size === 0) {
      this.#spawn();
    }
    this.#dispatch();
    this.#checkAllExited();
  }

  #break(error: Error): void {
    if (this.#broken) return;
    this.#broken = error;
    for (const s of this.#slots) {
      for (const c of s.outstanding.values()) this.#settle(c, false, error);
      s.outstanding.clear();
      s.expectedExit = true;
      s.handle.kill('SIGTERM');
    }
    this.#failQueue(error);
    this.#onBroken?.(error);
  }

  #failQueue(error: unknown): void {
    const queued = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    for (const c of queued) this.#settle(c, false, error);
    this.#updateRef();
  }

  #dispatch(): void {
    if (this.#options.startMethod === 'inline') {
      this.#runInline();
      return;
    }
    if (this.#broken) return;
    if (this.#options.onDemand) this.#fillCallQueue();
    // A starting process may be sent work ahead (see #plan), ready ones first.
    const early = this.#sendsEarly();
    const ready = [...this.#slots].filter((s) => (s.ready || early) && !s.retiring).sort((a, b) => Number(b.ready) - Number(a.ready));
    if (ready.length > 0 && this.#head < this.#queue.length) this.#plan(ready);
    if (this.#head >= this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
    this.#updateRef();
    if (this.#closing) this.#maybeRetireAll();
  }

  /**
   * A Pool's worker process still starting may be sent its first chunks: they wait in its data pipe (read only once
   * its worker loop runs), so the frames are written while it boots and it starts on them without a 'ready' round
   * trip; a worker that dies starting gives them back. Not a thread (its port may drop messages before the loop
   * listens), and not the executor (a queued future stays cancellable until a worker takes it).
   */
  #sendsEarly(): boolean {
    return !this.#options.onDemand && (this.#options.startMethod === 'spawn' || this.#options.startMethod === 'forkserver');
  }

  /**
   * Python's executor moves up to workers + 1 pending calls into its call queue at once, marking them running
   * (no longer cancellable) before any worker has taken them: the next queued chunks are committed the same way.
   */
  #fillCallQueue(): void {
    const depth = this.#options.processes + 1;
    for (let i = this.#head; i < this.#queue.length && this.#committed < depth; i++) {
      const c = this.#queue[i];
      if (!c || c.settled || c.committed) continue;
      c.committed = true;
      this.#committed++;
      c.onStart?.();
    }
  }

  /**
   * Deals queued chunks one at a time, each to the least loaded ready worker, so an idle worker always takes the
   * next task (Python's workers pull from one shared queue). A worker holds more than one chunk only while the
   * backlog is deep (at least two per worker) and its estimated work in hand stays under BUDGET_US: fast tasks then
   * go in batches and a round trip never idles it. With a shallow queue a task waits here, not behind a worker's
   * current task whose length nobody knows.
   */
  #plan(ready: Slot[]): void {
    const max = this.#options.maxTasksPerChild;
    const plans = new Map<Slot, { batch: WireChunk[]; transfer: TransferListItem[]; defs?: Array<[number, TargetRef]> }>();
    /** Read once per batch, for chunks the hub only counts. */
    let now: number | undefined;
    while (this.#head < this.#queue.length) {
      while (this.#head < this.#queue.length && this.#queue[this.#head].settled) this.#queue[this.#head++] = undefined as never;
      if (this.#head >= this.#queue.length) break;
      const c = this.#queue[this.#head];
      // Counted against every worker, started or not, so the first one up does not take a later one's share.
      const deep = this.queuedCount >= 2 * this.#slots.size;
      let slot: Slot | undefined;
      let cost = 0;
      for (const s of ready) {
        if (max && s.dispatched >= max) continue;
        const inHand = s.outstanding.size;
        const sCost = s.avgItemUs < 0 ? BUDGET_US : s.avgItemUs * Math.max(1, c.items.length);
        // Ahead of 'ready' only from a deep queue, two chunks at most, none that a signal or timer may take back.
        const room = s.ready
          ? inHand === 0 || (deep && (inHand < 2 || (inHand < MAX_WINDOW && s.cost + sCost <= BUDGET_US)))
          : deep && inHand < 2 && !c.signal && (c.timeout === undefined || c.timeout === null);
        if (!room) continue;
        if (!slot || inHand < slot.outstanding.size || (inHand === slot.outstanding.size && s.cost < slot.cost)) {
          slot = s;
          cost = sCost;
        }
      }
      if (!slot) break;
      this.#queue[this.#head++] = undefined as never;
      let plan = plans.get(slot);
      if (!plan) plans.set(slot, (plan = { batch: [], transfer: [] }));
      const t = this.#target(c.fn);
      if (!slot.sentTargets.has(t.id)) {
        slot.sentTargets.add(t.id);
        (plan.defs ??= []).push([t.id, t.ref]);
      }
      let items: unknown[];
      try {
        // Thread workers may be handed MessagePorts and the like by reduced objects.
        items =
          c.items instanceof Float64Array
            ? wireNumbers(c.items, this.#options.startMethod)
            : ((packedNumbers(c.items) as unknown[] | undefined) ??
              (isPlainData(c.items) ? c.items : (encode(c.items, { startMethod: this.#options.startMethod, transfer: plan.transfer }, 'args') as unknown[])));
      } catch (error) {
        this.#settle(c, false, error);
        continue;
      }
      c.worker = slot;
      c.cost = cost;
      slot.cost += cost;
      if (c.report === 'detailed') this.#task(c, 'started');
      else if (c.report === 'counted') {
        c.startedAt = now ??= Date.now();
        this.#count().started++;
      }
      slot.outstanding.set(c.id, c);
      slot.dispatched++;
      if (!c.committed) {
        if (this.#options.onDemand) {
          c.committed = true;
          this.#committed++;
        }
        c.onStart?.();
      }
      plan.batch.push([c.id, t.id, c.star ? 1 : 0, items]);
    }
    for (const [slot, plan] of plans) this.#send(slot, plan.batch, plan.defs, plan.transfer);
  }

  #send(slot: Slot, batch: WireChunk[], defs: Array<[number, TargetRef]> | undefined, transfer: TransferListItem[]): void {
    try {
      slot.handle.send({ t: 'tasks', defs, batch } satisfies ToWorker, transfer);
    } catch {
      // One item could not be cloned: send chunk by chunk so only the bad ones fail, each naming why.
      for (const wire of batch) {
        try {
          slot.handle.send({ t: 'tasks', defs, batch: [wire] } satisfies ToWorker);
          defs = undefined;
        } catch (e) {
          const c = slot.outstanding.get(wire[0]);
          slot.outstanding.delete(wire[0]);
          slot.dispatched--;
          if (c) {
            slot.cost -= c.cost ?? 0;
            this.#settle(c, false, new PicklingError(`an argument of task ${wire[0]} could not be sent to the worker: ${(e as Error).message ?? e}`));
          }
        }
      }
    }
  }

  #runInline(): void {
    if (this.#inlineRunning) return;
    this.#inlineRunning = true;
    setImmediate(async () => {
      try {
        if (this.#options.initializer && !this.#inlineInitialised) {
          this.#inlineInitialised = true;
          await this.#options.initializer(...(this.#options.initargs ?? []));
        }
        while (this.#head < this.#queue.length) {
          const c = this.#queue[this.#head];
          this.#queue[this.#head++] = undefined as never;
          if (c.settled) continue;
          c.onStart?.();
          try {
            const results: unknown[] = [];
            for (const item of c.items) results.push(await (c.star ? c.fn(...(item as unknown[])) : c.fn(item)));
            this.#settle(c, true, results);
          } catch (error) {
            this.#settle(c, false, error);
          }
        }
        this.#queue = [];
        this.#head = 0;
      } finally {
        this.#inlineRunning = false;
        this.#checkAllExited();
      }
    });
  }

  /** Idle workers never keep the program alive; pending tasks do. */
  #updateRef(): void {
    // Once closing, workers are on their way out: keep them referenced so join() sees them exit.
    const busy = this.pendingCount > 0 || this.#closing;
    if (busy === this.#refed) return;
    this.#refed = busy;
    for (const s of this.#slots) {
      if (busy) s.handle.ref();
      else s.handle.unref();
    }
  }

  /** No new tasks; workers exit once the queue is done. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#maybeRetireAll();
  }

  /** Called on close() and after every dispatch (each result, exit or cancellation ends in one), never polled. */
  #maybeRetireAll(): void {
    if (!this.#closing || this.#terminated || this.#retiredAll) return;
    if (this.pendingCount > 0) return;
    this.#retiredAll = true;
    for (const s of this.#slots) {
      s.expectedExit = true;
      s.handle.send({ t: 'exit' } satisfies ToWorker);
      s.handle.ref();
    }
    this.#checkAllExited();
  }

  /** Kills every worker now; pending tasks fail with `error`. */
  terminate(error: Error): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#closing = true;
    if (this.#respawnTimer) clearTimeout(this.#respawnTimer);
    for (const s of this.#slots) {
      for (const c of s.outstanding.values()) this.#settle(c, false, error);
      s.outstanding.clear();
      s.expectedExit = true;
      // Referenced again so join() after terminate() sees the exits.
      s.handle.ref();
      s.handle.kill('SIGTERM');
    }
    this.#failQueue(error);
    this.#checkAllExited();
  }

  #checkAllExited(): void {
    if (!this.#closing) return;
    if (this.#options.startMethod === 'inline') {
      if (this.pendingCount === 0 && !this.#inlineRunning) this.#markAllExited();
      return;
    }
    if (this.#slots.size === 0) this.#markAllExited();
  }

  #markAllExited(): void {
    // The last counts go with the next flush (at exit at the latest); nothing more will change them.
    if (this.#counts) this.#closeCounts();
    this.#unhookCounts?.();
    this.#unhookCounts = undefined;
    this.#markExited();
  }

  /** Resolves when every worker has exited (after close() or terminate()). */
  joined(): Promise<void> {
    return this.#allExited;
  }

  get closing(): boolean {
    return this.#closing;
  }
}

/**
 * A second view of `handle` whose ref()/unref() are its own: the child is referenced while either view holds it
 * (the set while it has work, a pending join() of the worker's listed Process), so neither undoes the other's.
 */
function sharedRef(handle: ChildHandle): ChildHandle {
  const ownRef = handle.ref.bind(handle);
  const ownUnref = handle.unref.bind(handle);
  const holds = { set: true, view: false };
  const apply = (): void => (holds.set || holds.view ? ownRef() : ownUnref());
  /** ref()/unref() that set only `who`'s hold. */
  const holdFor = (who: keyof typeof holds): Pick<ChildHandle, 'ref' | 'unref'> => ({
    ref: () => {
      holds[who] = true;
      apply();
    },
    unref: () => {
      holds[who] = false;
      apply();
    },
  });
  Object.assign(handle, holdFor('set'));
  return Object.assign(Object.create(handle) as ChildHandle, holdFor('view'));
}

/**
 * A view of the Pool's packed numbers as it goes on the wire: a process's frame (v8.serialize) carries only the
 * view's bytes, but a thread's postMessage clones the whole buffer under a view, so a thread gets its own copy.
 */
function wireNumbers(view: Float64Array, method: StartMethod): unknown[] {
  const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
  return (method === 'thread' && !whole ? view.slice() : view) as unknown as unknown[];
}

function abortReason(signal: AbortSignal): unknown {
  const reason = signal.reason as unknown;
  if (reason !== undefined) return reason;
  // What Node's own AbortSignal.abort() gives as its reason: a DOMException named AbortError.
  return new DOMException('This operation was aborted', 'AbortError');
}
