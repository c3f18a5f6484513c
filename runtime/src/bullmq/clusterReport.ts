// What a caller with a hub reports of its bullmq cluster: the roll of workers and the queue's counts read from
// Redis (a worker on another machine needs no connection to the hub: the caller relays what Redis says), this
// caller's jobs per worker, retries, and its first jobs of each moment as `job` events for trace arrows.
// Caller side only; costs nothing without a hub (the Backend makes one only while reporting).
import type { Queue as BullQueue } from 'bullmq';
import type Redis from 'ioredis';
import type { ClusterActivity, ClusterJob, ClusterWorker, WorkerAnnouncement } from '../protocol';
import * as telemetry from '../telemetry';
import type { ResolvedBackend } from './connection';

/** How often Redis is read for the roll and the counts. */
const POLL_MS = 1_000;
/** Changes of this caller's counts go out at most this often (and once more at exit). */
const REPORT_MS = 200;
/** Jobs per REPORT_MS that get `job` events (their arrows); the rest are only counted. */
const DETAILED_PER_WINDOW = 32;
const MAX_DETAILED = 10_000;

export interface JobRun {
  /** `name@host`. */
  w?: string;
  wp?: number;
  st?: number;
}

export class ClusterReport {
  #id: string;
  #config: ResolvedBackend;
  #roll: WorkerAnnouncement[] = [];
  #alive = new Set<string>();
  #counts = { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 };
  #retried = 0;
  #submitted = 0;
  #ended = 0;
  /** `name@host` → this caller's jobs that ended there. */
  #perWorker = new Map<string, { done: number; failed: number; pid?: number }>();
  #detailed = new Map<string, string>();
  #window = 0;
  #budget = 0;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #poller: NodeJS.Timeout | undefined;
  #unhook: () => void;
  #last = '';

  constructor(config: ResolvedBackend) {
    this.#config = config;
    this.#id = `${config.address}/${config.prefix}:${config.queue}`;
    // The exit flush carries the last counts, so they are exact when the program ends right after its last call.
    this.#unhook = telemetry.beforeFlush(() => {
      if (this.#dirty) this.#emit();
    });
  }

  /** Reads Redis now and every second from here on (unref'd: never keeps the program alive). */
  watch(queue: BullQueue, client: Redis): void {
    if (this.#poller) return;
    const poll = () => void this.#poll(queue, client);
    this.#poller = setInterval(poll, POLL_MS);
    this.#poller.unref();
    poll();
  }

  submitted(id: string, fn: string): void {
    this.#submitted++;
    const now = Date.now();
    if (now - this.#window >= REPORT_MS) {
      this.#window = now;
      this.#budget = DETAILED_PER_WINDOW;
    }
    if (this.#budget > 0 && this.#detailed.size < MAX_DETAILED) {
      this.#budget--;
      this.#detailed.set(id, fn);
      this.#job({ t: 'job', ts: now, cluster: this.#id, job: id, op: 'submitted', fn });
    }
    this.#changed();
  }

  ended(id: string, ok: boolean, run: JobRun, error?: unknown): void {
    this.#ended++;
    if (run.w) {
      let w = this.#perWorker.get(run.w);
      if (!w) this.#perWorker.set(run.w, (w = { done: 0, failed: 0 }));
      if (ok) w.done++;
      else w.failed++;
      if (run.wp !== undefined) w.pid = run.wp;
    }
    const fn = this.#detailed.get(id);
    if (fn !== undefined) {
      this.#detailed.delete(id);
      const event: ClusterJob = { t: 'job', ts: Date.now(), cluster: this.#id, job: id, op: ok ? 'done' : 'failed', fn };
      if (run.w) event.worker = run.w;
      if (run.wp !== undefined) event.pid = run.wp;
      if (run.st !== undefined) event.startedAt = run.st;
      if (!ok) event.error = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 512);
      this.#job(event);
    }
    this.#changed();
  }

  /** BullMQ put a job back to run again (its worker stopped renewing its lock). */
  retried(id: string): void {
    this.#retried++;
    const fn = this.#detailed.get(id);
    if (fn !== undefined) this.#job({ t: 'job', ts: Date.now(), cluster: this.#id, job: id, op: 'retried', fn });
    this.#changed();
  }

  stop(): void {
    if (this.#poller) clearInterval(this.#poller);
    if (this.#timer) clearTimeout(this.#timer);
    this.#poller = undefined;
    this.#timer = undefined;
    if (this.#dirty) this.#emit();
    this.#unhook();
  }

  async #poll(queue: BullQueue, client: Redis): Promise<void> {
    if (!telemetry.isReporting()) return this.stop();
    try {
      const prefix = this.#config.prefix;
      const [counts, roll] = await Promise.all([
        queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'),
        client.hgetall(`${prefix}:workers`),
      ]);
      const workers: WorkerAnnouncement[] = [];
      for (const text of Object.values(roll)) {
        try {
          const a = JSON.parse(text) as WorkerAnnouncement;
          if (a && typeof a.name === 'string' && typeof a.host === 'string') workers.push(a);
        } catch {
          // A registration this runtime cannot read (another program's) is left out.
        }
      }
      const alive = new Set<string>();
      if (workers.length > 0) {
        const pipeline = client.pipeline();
        for (const w of workers) pipeline.exists(`${prefix}:worker:${w.name}`);
        const answers = (await pipeline.exec()) ?? [];
        workers.forEach((w, i) => {
          if (answers[i]?.[1] === 1) alive.add(w.name);
        });
      }
      this.#roll = workers.sort((a, b) => a.host.localeCompare(b.host) || a.name.localeCompare(b.name));
      this.#alive = alive;
      this.#counts = {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
      };
      this.#changed();
    } catch {
      // Redis away: the backend itself says so to the calls waiting; the view keeps the last reading.
    }
  }

  #job(event: ClusterJob): void {
    telemetry.emit(event);
  }

  #changed(): void {
    this.#dirty = true;
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#dirty) this.#emit();
    }, REPORT_MS);
    this.#timer.unref();
  }

  #emit(): void {
    this.#dirty = false;
    const workers: ClusterWorker[] = [];
    const listed = new Set<string>();
    for (const a of this.#roll) {
      const key = `${a.name}@${a.host}`;
      listed.add(key);
      const mine = this.#perWorker.get(key);
      workers.push({ ...a, alive: this.#alive.has(a.name), jobsDone: mine?.done ?? 0, jobsFailed: mine?.failed ?? 0 });
    }
    // A worker that ran this caller's jobs and has left the roll (stopped) is still shown, as gone.
    for (const [key, mine] of this.#perWorker) {
      if (listed.has(key)) continue;
      const at = key.lastIndexOf('@');
      workers.push({
        name: key.slice(0, at),
        host: key.slice(at + 1),
        pid: mine.pid ?? 0,
        capacity: 0,
        program: '',
        version: '',
        queue: `${this.#config.prefix}:${this.#config.queue}`,
        startedAt: 0,
        alive: false,
        jobsDone: mine.done,
        jobsFailed: mine.failed,
      });
    }
    const event: ClusterActivity = {
      t: 'cluster',
      ts: Date.now(),
      id: this.#id,
      address: this.#config.address,
      queue: `${this.#config.prefix}:${this.#config.queue}`,
      workers,
      ...this.#counts,
      retried: this.#retried,
      submitted: this.#submitted,
      ended: this.#ended,
    };
    const signature = JSON.stringify({ ...event, ts: 0 });
    if (signature === this.#last) return;
    this.#last = signature;
    telemetry.emit(event);
  }
}
