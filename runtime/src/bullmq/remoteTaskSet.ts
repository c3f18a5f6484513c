// What Pool and ProcessPoolExecutor run on in a bullmq context, in place of the local worker set: each chunk
// is one BullMQ job, at most `processes` of them in flight, served by `forkscope worker` processes anywhere.
// Caller side only.
import { relative, isAbsolute } from 'node:path';
import { TimeoutError } from '../errors';
import { findTarget } from '../targets';
import * as telemetry from '../telemetry';
import { hostName } from './connection';
import { packValue, isJsonExact, type JobData } from './wire';
import type { Backend } from './backend';
import type { Chunk, TaskSet } from '../workers';

export interface RemoteTaskSetOptions {
  /** Most jobs in flight at once. */
  processes: number;
  poolId: string;
}

export class RemoteTaskSet implements TaskSet {
  #backend: Backend;
  #options: RemoteTaskSetOptions;
  #queue: Chunk[] = [];
  #inFlight = new Map<Chunk, string>();
  #nextChunk = 1;
  #closing = false;
  #terminated = false;
  #joined: Promise<void>;
  #markJoined!: () => void;
  #caller = `${hostName()}:${process.pid}`;
  #relativeTo = '';
  #relative = new Map<string, string>();

  constructor(backend: Backend, options: RemoteTaskSetOptions) {
    this.#backend = backend;
    this.#options = options;
    this.#joined = new Promise((r) => (this.#markJoined = r));
    // Connect now, so a wrong address or password shows at once; calls made meanwhile wait for it.
    backend.ready().catch(() => {});
  }

  get broken(): Error | undefined {
    return undefined;
  }

  get pendingCount(): number {
    return this.#queue.length + this.#inFlight.size;
  }

  get queuedCount(): number {
    return this.#queue.length;
  }

  /** Remote workers are not this process's children. */
  get workers(): [] {
    return [];
  }

  checkTarget(fn: Function): void {
    findTarget(fn);
  }

  newChunkId(): number {
    return this.#nextChunk++;
  }

  submit(chunks: Chunk[]): void {
    for (const c of chunks) {
      if (this.#terminated) {
        this.#settle(c, false, new Error('the pool was terminated'));
        continue;
      }
      this.#queue.push(c);
      if (telemetry.isReporting()) this.#task(c, 'queued');
      if (c.timeout !== undefined && c.timeout !== null) {
        c.timer = setTimeout(() => this.#expire(c, new TimeoutError(`task ${c.id} (${c.fn.name || 'anonymous'}) timed out after ${c.timeout} ms`)), c.timeout);
      }
      if (c.signal) {
        if (c.signal.aborted) {
          this.#expire(c, c.signal.reason);
          continue;
        }
        c.onAbort = () => this.#expire(c, c.signal!.reason);
        c.signal.addEventListener('abort', c.onAbort, { once: true });
      }
    }
    this.#pump();
  }

  /** Adds queued chunks as jobs while fewer than `processes` are in flight. */
  #pump(): void {
    const jobs: Parameters<Backend['add']>[0] = [];
    while (this.#queue.length > 0 && this.#inFlight.size < this.#options.processes) {
      const c = this.#queue.shift()!;
      if (c.settled) continue;
      let data: JobData;
      try {
        const ref = findTarget(c.fn);
        data = { m: ref.module, n: ref.name };
        if (ref.label !== ref.name) data.l = ref.label;
        const rel = this.#relativeModule(ref.module);
        if (rel) data.r = rel;
        if (c.star) data.s = 1;
        // Only a caller that reports to a hub names itself; the worker then says who ran the task.
        if (telemetry.isReporting()) data.c = this.#caller;
        // Plain items (the common case) go as JSON, which BullMQ writes anyway; anything else through serialize.ts.
        // (A Pool packs numbers only for local workers; an Array here either way.)
        const items = c.items instanceof Float64Array ? Array.from(c.items) : c.items;
        if (!c.star && isJsonExact(items)) data.p = items;
        else data.a = packValue(items, 'args');
      } catch (error) {
        this.#settle(c, false, error);
        continue;
      }
      const id = this.#backend.jobId();
      this.#inFlight.set(c, id);
      jobs.push({
        id,
        data,
        pending: {
          label: c.fn.name || 'anonymous',
          seen: Date.now(),
          settle: (ok, value) => {
            this.#inFlight.delete(c);
            this.#settle(c, ok, value);
            this.#pump();
          },
          onActive: () => {
            if (telemetry.isReporting()) this.#task(c, 'started');
            c.onStart?.();
          },
        },
      });
    }
    this.#backend.add(jobs);
    this.#checkJoined();
  }

  /** The module's path relative to the working directory ('' outside it), worked out once per module and directory. */
  #relativeModule(module: string): string {
    const cwd = process.cwd();
    if (cwd !== this.#relativeTo) {
      this.#relativeTo = cwd;
      this.#relative.clear();
    }
    let rel = this.#relative.get(module);
    if (rel === undefined) {
      const r = isAbsolute(module) ? relative(cwd, module) : '';
      rel = r.startsWith('..') ? '' : r;
      this.#relative.set(module, rel);
    }
    return rel;
  }

  #task(c: Chunk, op: 'queued' | 'started' | 'done' | 'failed' | 'cancelled', error?: unknown): void {
    const text = error === undefined ? undefined : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    telemetry.emit({ t: 'task', ts: Date.now(), pool: this.#options.poolId, task: c.id, op, fn: c.fn.name || undefined, error: text });
  }

  #settle(c: Chunk, ok: boolean, value: unknown): void {
    if (c.settled) return;
    c.settled = true;
    if (telemetry.isReporting()) this.#task(c, ok ? 'done' : 'failed', ok ? undefined : value);
    if (c.timer) clearTimeout(c.timer);
    if (c.onAbort) c.signal?.removeEventListener('abort', c.onAbort);
    c.settle(ok, value);
  }

  /** A timed-out or aborted chunk fails now; its job is removed if no worker has it (a running one cannot be stopped). */
  #expire(c: Chunk, error: unknown): void {
    if (c.settled) return;
    const id = this.#inFlight.get(c);
    if (id !== undefined) {
      this.#inFlight.delete(c);
      this.#backend.drop(id);
    }
    this.#settle(c, false, error);
    this.#pump();
  }

  cancelQueued(c: Chunk, _error: unknown): boolean {
    if (c.settled || this.#inFlight.has(c)) return false;
    if (telemetry.isReporting()) this.#task(c, 'cancelled');
    c.settled = true;
    if (c.timer) clearTimeout(c.timer);
    if (c.onAbort) c.signal?.removeEventListener('abort', c.onAbort);
    this.#queue = this.#queue.filter((q) => q !== c);
    this.#checkJoined();
    return true;
  }

  close(): void {
    this.#closing = true;
    this.#checkJoined();
  }

  terminate(error: Error): void {
    this.#terminated = true;
    this.#closing = true;
    for (const [c, id] of [...this.#inFlight]) {
      this.#backend.drop(id);
      this.#settle(c, false, error);
    }
    this.#inFlight.clear();
    for (const c of this.#queue.splice(0)) this.#settle(c, false, error);
    this.#checkJoined();
  }

  #checkJoined(): void {
    if (this.#closing && this.pendingCount === 0) this.#markJoined();
  }

  joined(): Promise<void> {
    return this.#joined;
  }

  get closing(): boolean {
    return this.#closing;
  }
}
