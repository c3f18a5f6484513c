// getContext("bullmq", { connection, prefix }) and FORKSCOPE_BACKEND=redis://…: the same Pool, executor and queues,
// with tasks run as BullMQ jobs by `forkscope worker` processes. One Backend per connection and prefix.
import { Backend } from './backend';
import { resolveBackend, type BullmqOptions } from './connection';
import { RedisQueue, RedisJoinableQueue, setReviveBackend } from './queues';
import type { StartMethod } from '../protocol';
import { forcedInline } from '../process';

/** Marks a context (or Pool `context` option) whose tasks go to the cluster. */
const backendSymbol = Symbol.for('forkscope.bullmqBackend');

const backends = new Map<string, Backend>();

/** The Backend for these options, made once per Redis address, database, user, prefix and queue. */
export function backendFor(options: BullmqOptions): Backend {
  const resolved = resolveBackend(options);
  const key = JSON.stringify([resolved.address, resolved.redis.db ?? 0, resolved.redis.username ?? '', resolved.prefix, resolved.queue]);
  let backend = backends.get(key);
  if (!backend) backends.set(key, (backend = new Backend(options)));
  return backend;
}

let envBackend: Backend | undefined;

/** The backend a Pool or executor runs on: its context's, FORKSCOPE_BACKEND's when it has none, else undefined (local). */
export function remoteBackendOf(context: unknown): Backend | undefined {
  // FORKSCOPE_SINGLE_PROCESS=1 (the view's toggle) runs a whole program in one process, cluster pools too.
  if (forcedInline()) return undefined;
  if (context && typeof context === 'object' && backendSymbol in context) return (context as { [backendSymbol]: Backend })[backendSymbol];
  if (context === undefined && process.env.FORKSCOPE_BACKEND) return (envBackend ??= backendFor({ connection: process.env.FORKSCOPE_BACKEND }));
  return undefined;
}

/** Where a bullmq queue revived in this process connects: the worker's backend, else FORKSCOPE_BACKEND's. */
setReviveBackend(() => {
  const backend = remoteBackendOf(undefined);
  if (!backend)
    throw new Error('a bullmq Queue arrived in a process with no bullmq backend (set FORKSCOPE_BACKEND, or pass it only to tasks of a bullmq Pool)');
  return backend;
});

/** Used by `forkscope worker`: queues arriving in its tasks connect through its backend. */
export function useWorkerBackend(backend: Backend): void {
  envBackend = backend;
  setReviveBackend(() => backend);
}

export interface BullmqContextParts {
  backend: Backend;
  Queue: new <T = unknown>(options?: { maxsize?: number }) => RedisQueue<T>;
  JoinableQueue: new <T = unknown>(options?: { maxsize?: number }) => RedisJoinableQueue<T>;
  marker: { [backendSymbol]: Backend; getStartMethod(): StartMethod };
}

/** The pieces context.ts binds into a bullmq context. */
export function bullmqContextParts(options: BullmqOptions): BullmqContextParts {
  const backend = backendFor(options);
  class Queue<T = unknown> extends RedisQueue<T> {
    constructor(opts: { maxsize?: number } = {}) {
      super(backend, opts);
    }
  }
  class JoinableQueue<T = unknown> extends RedisJoinableQueue<T> {
    constructor(opts: { maxsize?: number } = {}) {
      super(backend, opts);
    }
  }
  // Processes a bullmq context starts directly are still local, spawned ones.
  const marker = { [backendSymbol]: backend, getStartMethod: (): StartMethod => 'spawn' };
  return { backend, Queue, JoinableQueue, marker };
}

export { backendSymbol };
