// The caller's side of the bullmq backend: one BullMQ Queue that tasks are added to and one QueueEvents that
// brings their ends back, shared by every Pool, executor and queue of one context. Settles each job exactly once
// (an event, or a look at the job when events were missed), fails pending calls clearly when Redis stays
// unreachable or refuses the credentials, and never keeps an idle program alive. Caller side only.
import type { Queue as BullQueue, QueueEvents, Job } from 'bullmq';
import type Redis from 'ioredis';
import { loadBullmq, probe, resolveBackend, credentialsError, ConnectionError, type BullmqOptions, type ResolvedBackend } from './connection';
import type { JobData, JobResult } from './wire';
import { unpackValue, unpackThrown } from './wire';
import { WorkerDiedError } from '../errors';
import * as telemetry from '../telemetry';
import { ClusterReport, type JobRun } from './clusterReport';

/** What a submitted job waits for; `settle` is called exactly once. */
export interface PendingJob {
  label: string;
  settle(ok: boolean, value: unknown): void;
  onActive?(): void;
  /** Set once Redis has the job (only then can a missing job mean it was lost). */
  added?: boolean;
  /** When the job was added or last heard of. */
  seen: number;
}

/** A job not heard of for this long is looked at directly (events can be missed across a Redis restart). */
const RECONCILE_AFTER_MS = 2_000;
const RECONCILE_EVERY_MS = 1_000;
/** Kept so a job's end can still be read when its event was missed. */
const KEEP_COMPLETED = { age: 600 };
const KEEP_FAILED = { age: 3600 };
/** Jobs added at once from this many go in one addBulk pipeline; fewer, each by itself. */
const BULK_FROM = 4;

export class Backend {
  readonly config: ResolvedBackend;
  #queue: BullQueue | undefined;
  #client: Redis | undefined;
  #events: QueueEvents | undefined;
  #ready: Promise<void> | undefined;
  #pending = new Map<string, PendingJob>();
  #failure: Error | undefined;
  #downSince: number | undefined;
  #reconcileTimer: NodeJS.Timeout | undefined;
  #clients = new Set<Redis>();
  #busy = 0;
  #refed = true;
  #runId = `${process.pid.toString(36)}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  #nextJob = 1;
  /** Made only when this process reports to a hub. */
  #report: ClusterReport | undefined;

  constructor(options: BullmqOptions) {
    this.config = resolveBackend(options);
  }

  /** A new job id, unique to this caller. */
  jobId(): string {
    return `${this.#runId}-${this.#nextJob++}`;
  }

  get pendingJobs(): number {
    return this.#pending.size;
  }

  /** Connects once (Queue + QueueEvents), or rejects with why Redis cannot be used. */
  ready(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    this.#ready ??= this.#connect().catch((error: unknown) => {
      this.#ready = undefined;
      const refused = credentialsError(error, this.config.address);
      if (refused) this.#fail(refused);
      throw refused ?? error;
    });
    return this.#ready;
  }

  async #connect(): Promise<void> {
    const { Queue, QueueEvents } = loadBullmq();
    await probe(this.config);
    const { redis, prefix, queue: name } = this.config;
    const queue = new Queue(name, {
      connection: redis,
      prefix,
      defaultJobOptions: { attempts: 1, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED },
    });
    this.#queue = queue;
    queue.on('error', (error) => this.#onError(error));
    const client = await this.#untilReady(queue.client as unknown as Promise<Redis>);
    this.#client = client;
    this.#watch(client);
    // Events are read from the moment before the first job is added: none is missed, whatever the clocks say.
    const [seconds, micros] = await client.time();
    const lastEventId = `${Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - 1}-0`;
    const events = new QueueEvents(name, { connection: redis, prefix, lastEventId, autorun: true });
    this.#events = events;
    events.on('error', (error) => this.#onError(error));
    events.on('completed', ({ jobId, returnvalue }) => void this.#completed(jobId, returnvalue as unknown));
    events.on('stalled', ({ jobId }) => this.#report?.retried(jobId));
    events.on('failed', ({ jobId, failedReason }) => void this.#failed(jobId, failedReason));
    events.on('active', ({ jobId }) => {
      const p = this.#pending.get(jobId);
      if (p) {
        p.seen = Date.now();
        p.onActive?.();
      }
    });
    this.#watch(await this.#untilReady(events.client as unknown as Promise<Redis>));
    this.#applyRef();
    if (telemetry.isReporting()) {
      this.#report ??= new ClusterReport(this.config);
      this.#report.watch(queue, client);
    }
  }

  /** Resolves with the client, or rejects when Redis refuses the credentials (ioredis would retry forever). */
  #untilReady(client: Promise<Redis>): Promise<Redis> {
    return new Promise((resolve, reject) => {
      const onError = (error: unknown) => {
        const refused = credentialsError(error, this.config.address);
        if (refused) {
          this.#fail(refused);
          reject(refused);
        }
      };
      const unreachable = setTimeout(() => {
        const error = new ConnectionError(
          `Redis at ${this.config.address} could not be reached in ${this.config.unreachableTimeout} ms; start it, or check the address in the redis:// URL`,
        );
        this.#fail(error);
        reject(error);
      }, this.config.unreachableTimeout);
      unreachable.unref();
      this.#earlyErrors.add(onError);
      client.then(
        (c) => {
          clearTimeout(unreachable);
          this.#earlyErrors.delete(onError);
          resolve(c);
        },
        (error: unknown) => {
          clearTimeout(unreachable);
          this.#earlyErrors.delete(onError);
          reject(credentialsError(error, this.config.address) ?? error);
        },
      );
    });
  }

  #earlyErrors = new Set<(error: unknown) => void>();

  #onError(error: unknown): void {
    for (const f of [...this.#earlyErrors]) f(error);
    const refused = credentialsError(error, this.config.address);
    if (refused) this.#fail(refused);
  }

  /** Follows a connection's health: calls wait while Redis is away, and fail once it has been away too long. */
  #watch(client: Redis): void {
    this.#clients.add(client);
    client.on('close', () => {
      this.#downSince ??= Date.now();
    });
    client.on('ready', () => {
      this.#downSince = undefined;
      this.#applyRef(true);
    });
    client.on('reconnecting', () => this.#applyRef(true));
  }

  /** Every pending call fails with `error`; so do later ones. */
  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const [id, p] of [...this.#pending]) {
      this.#pending.delete(id);
      p.settle(false, error);
    }
    void this.close();
  }

  /** Adds jobs; each one's PendingJob settles once. Rejections of the add itself settle them too. */
  add(jobs: Array<{ id: string; data: JobData; pending: PendingJob }>): void {
    if (jobs.length === 0) return;
    if (telemetry.isReporting()) this.#report ??= new ClusterReport(this.config);
    for (const j of jobs) {
      this.#pending.set(j.id, j.pending);
      this.#report?.submitted(j.id, j.pending.label);
    }
    this.#startReconciling();
    this.#applyRef();
    void this.ready().then(
      () => {
        const queue = this.#queue!;
        // A pipeline costs the caller about as much CPU as a few single adds (ioredis copies every script of the
        // client into each one): the job or two that a finished job frees go one by one, a map's first window in bulk.
        if (jobs.length >= BULK_FROM) this.#added(jobs, queue.addBulk(jobs.map((j) => ({ name: j.pending.label, data: j.data, opts: { jobId: j.id } }))));
        else for (const j of jobs) this.#added([j], queue.add(j.pending.label, j.data, { jobId: j.id }));
      },
      (error: unknown) => this.#notAdded(jobs, error),
    );
  }

  /** Marks jobs as held by Redis once `adding` resolves; settles them with the error when it rejects. */
  #added(jobs: Array<{ id: string; pending: PendingJob }>, adding: Promise<unknown>): void {
    adding.then(
      () => {
        const now = Date.now();
        for (const j of jobs) {
          j.pending.added = true;
          j.pending.seen = now;
        }
      },
      (error: unknown) => this.#notAdded(jobs, error),
    );
  }

  #notAdded(jobs: Array<{ id: string }>, error: unknown): void {
    const refused = credentialsError(error, this.config.address);
    if (refused) this.#fail(refused);
    for (const j of jobs) this.#settle(j.id, false, refused ?? error);
  }

  /** Forgets a job (timeout, abort, terminate); removes it from Redis when no worker has taken it yet. */
  drop(id: string): void {
    if (!this.#pending.delete(id)) return;
    this.#applyRef();
    void this.#queue?.remove(id).catch(() => {});
  }

  #settle(id: string, ok: boolean, value: unknown, run: JobRun = {}): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    this.#report?.ended(id, ok, run, value);
    p.settle(ok, value);
    this.#applyRef();
  }

  async #completed(id: string, returnvalue: unknown): Promise<void> {
    if (!this.#pending.has(id)) return;
    try {
      const result = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as JobResult;
      this.#settle(id, true, result.p ?? (await unpackValue(result.r!)), { w: result.w, wp: result.wp, st: result.st });
    } catch (error) {
      this.#settle(id, false, error);
    }
  }

  async #failed(id: string, reason: string): Promise<void> {
    const p = this.#pending.get(id);
    if (!p) return;
    let job: Job | undefined;
    try {
      job = await this.#queue!.getJob(id);
    } catch {
      // Read below from the reason alone.
    }
    const data = job?.data as JobData | undefined;
    let error: unknown;
    if (data?.e) error = await unpackThrown(data.e).catch((e: unknown) => e);
    else error = new WorkerDiedError(`task ${id} (${p.label}) failed on the cluster: ${reason || job?.failedReason || 'no reason given'}`, {});
    this.#settle(id, false, error, { w: data?.w ?? job?.processedBy, wp: data?.wp, st: data?.st ?? job?.processedOn });
  }

  #startReconciling(): void {
    if (this.#reconcileTimer) return;
    this.#reconcileTimer = setInterval(() => void this.#reconcile(), RECONCILE_EVERY_MS);
    this.#reconcileTimer.unref();
  }

  /** Looks at jobs not heard of lately: settles the ones that ended unseen, fails the lost, and Redis staying away. */
  async #reconcile(): Promise<void> {
    if (this.#pending.size === 0) {
      clearInterval(this.#reconcileTimer);
      this.#reconcileTimer = undefined;
      return;
    }
    const now = Date.now();
    if (this.#downSince !== undefined && now - this.#downSince >= this.config.unreachableTimeout) {
      const error = new ConnectionError(
        `Redis at ${this.config.address} has been unreachable for ${Math.round((now - this.#downSince) / 1000)} s; ${this.#pending.size} pending task(s) failed (start Redis again, or raise unreachableTimeout)`,
      );
      for (const id of [...this.#pending.keys()]) this.#settle(id, false, error);
      return;
    }
    if (this.#downSince !== undefined || !this.#queue) return;
    const stale = [...this.#pending].filter(([, p]) => p.added && now - p.seen >= RECONCILE_AFTER_MS).slice(0, 256);
    for (const [id, p] of stale) {
      p.seen = now;
      let job: Job | undefined;
      let state: string;
      try {
        job = await this.#queue.getJob(id);
        state = job ? await job.getState() : 'unknown';
      } catch {
        return;
      }
      if (state === 'completed' && job) void this.#completed(id, job.returnvalue);
      else if (state === 'failed' && job) void this.#failed(id, job.failedReason);
      else if (state === 'unknown') {
        this.#settle(
          id,
          false,
          new ConnectionError(
            `task ${id} (${p.label}) was lost: Redis at ${this.config.address} no longer holds its job (was it restarted without persistence?)`,
          ),
        );
      }
    }
  }

  /** Counts a blocking call (a queue's get) as work that keeps the program alive. */
  hold(): () => void {
    this.#busy++;
    this.#applyRef();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#busy--;
      this.#applyRef();
    };
  }

  /** Registers a connection a queue made, so it follows the same keep-alive rule. */
  track(client: Redis): void {
    this.#clients.add(client);
    client.on('connect', () => this.#applyRef(true));
    client.on('reconnecting', () => this.#applyRef(true));
    this.#applyRef(true);
  }

  /** Forgets a connection a queue closed. */
  untrack(client: Redis): void {
    this.#clients.delete(client);
  }

  /**
   * Idle connections never keep the program alive; pending work does. That holds for a connection Redis dropped
   * too: ioredis then waits on its reconnect timer (ref'd, retrying forever), which follows the same rule.
   */
  #applyRef(force = false): void {
    const busy = this.#pending.size > 0 || this.#busy > 0;
    if (busy === this.#refed && !force) return;
    this.#refed = busy;
    for (const c of this.#clients) {
      const reconnect = (c as unknown as { reconnectTimeout?: NodeJS.Timeout | null }).reconnectTimeout;
      if (busy) reconnect?.ref();
      else reconnect?.unref();
      const stream = (c as unknown as { stream?: { connecting?: boolean; destroyed?: boolean; ref?(): void; unref?(): void } }).stream;
      // A socket not connected would queue a listener per call: it is set once connected ('connect'/'ready' call here again).
      if (!stream || stream.connecting || stream.destroyed) continue;
      if (busy) stream.ref?.();
      else stream.unref?.();
    }
  }

  /** The BullMQ Queue (for counts and the view). */
  async queue(): Promise<BullQueue> {
    await this.ready();
    return this.#queue!;
  }

  /** A plain ioredis connection of this backend's (queues use it). */
  async redis(): Promise<Redis> {
    await this.ready();
    return this.#client!;
  }

  async close(): Promise<void> {
    this.#report?.stop();
    this.#report = undefined;
    if (this.#reconcileTimer) clearInterval(this.#reconcileTimer);
    this.#reconcileTimer = undefined;
    const queue = this.#queue;
    const events = this.#events;
    this.#queue = undefined;
    this.#client = undefined;
    this.#events = undefined;
    this.#ready = undefined;
    await Promise.allSettled([events?.close(), queue?.close()]);
    for (const c of this.#clients) c.disconnect();
    this.#clients.clear();
  }
}
