// Queue and JoinableQueue of the bullmq context: a Redis list under the backend's prefix, so every caller and
// worker of the cluster shares it. Items cross through serialize.ts as they do between local processes; a
// queue passed to a remote task arrives as the same Redis queue, reached through the worker's own connection.
// qsize()/empty()/full() are synchronous as Python's and as approximate: the depth this process last saw.
import { randomUUID } from 'node:crypto';
import { serialize, deserialize } from 'node:v8';
import type Redis from 'ioredis';
import { Empty, Full, ValueError } from '../errors';
import { encode, decodeAsync } from '../serialize';
import { readTimeout } from '../timeouts';
import { reduceSymbol, registerReviver, type ReducedObject } from '../reduction';
import type { QueueWaitOptions } from '../queues';
import type { Backend } from './backend';

/** How often a bounded put() waiting for room and join() look again. */
const POLL_MS = 25;
/** A get() with no timeout blocks on Redis in slices this long, so a closed program is never held by it. */
const BLOCK_SLICE_S = 5;

/** Puts only while the list holds fewer than ARGV[2] items; returns the new length, or -1 when full. */
const PUT_BOUNDED = `local n = redis.call('LLEN', KEYS[1])
if tonumber(ARGV[2]) > 0 and n >= tonumber(ARGV[2]) then return -1 end
if KEYS[2] ~= '' then redis.call('INCR', KEYS[2]) end
return redis.call('RPUSH', KEYS[1], ARGV[1])`;

interface QueueState {
  id: string;
  maxsize: number;
  joinable: boolean;
  prefix: string;
}

let reviveBackend: (() => Backend) | undefined;

/** Where a queue that arrives inside a task's arguments connects: the worker's backend. */
export function setReviveBackend(get: () => Backend): void {
  reviveBackend = get;
}

/** A FIFO queue in Redis, shared by every process of the cluster. Python: multiprocessing.Queue */
export class RedisQueue<T = unknown> {
  #backend: Backend;
  #key: string;
  #unfinished: string;
  #state: QueueState;
  #depth = 0;
  #closed = false;
  #gets = 0;
  #dones = 0;

  constructor(backend: Backend, options: { maxsize?: number } = {}, state?: QueueState) {
    const maxsize = options.maxsize ?? 0;
    if (!Number.isInteger(maxsize) || maxsize < 0) throw new ValueError(`maxsize must be a whole number ≥ 0, not ${maxsize}`);
    this.#backend = backend;
    this.#state = state ?? { id: randomUUID(), maxsize, joinable: false, prefix: backend.config.prefix };
    this.#key = `${this.#state.prefix}:queue:${this.#state.id}`;
    this.#unfinished = `${this.#key}:unfinished`;
  }

  protected markJoinable(): void {
    this.#state.joinable = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ValueError(`Queue is closed`);
  }

  async #client(): Promise<Redis> {
    return this.#backend.redis();
  }

  /** Puts an item, waiting for room in a full bounded queue; rejects `Full` on timeout or with `block: false`. Python: Queue.put */
  async put(obj: T, options: QueueWaitOptions = {}): Promise<void> {
    const timeout = readTimeout(options, 'Queue.put');
    return this.#put(obj, options?.block ?? true, timeout);
  }

  /** Python: Queue.put_nowait */
  putNowait(obj: T): Promise<void> {
    return this.#put(obj, false, undefined);
  }

  async #put(obj: T, block: boolean, timeout: number | undefined): Promise<void> {
    this.#checkOpen();
    const item = serialize(encode(obj, { startMethod: 'spawn', transfer: [] }, 'item'));
    const release = this.#backend.hold();
    try {
      const redis = await this.#client();
      const deadline = timeout === undefined ? Infinity : Date.now() + Math.max(0, timeout);
      for (;;) {
        const n = (await redis.eval(PUT_BOUNDED, 2, this.#key, this.#state.joinable ? this.#unfinished : '', item, this.#state.maxsize)) as number;
        if (n >= 0) {
          this.#depth = n;
          return;
        }
        this.#depth = this.#state.maxsize;
        if (!block || Date.now() >= deadline) throw new Full();
        await sleep(Math.min(POLL_MS, deadline - Date.now()));
      }
    } finally {
      release();
    }
  }

  /** Takes the oldest item, waiting for one; rejects `Empty` on timeout or with `block: false`. Python: Queue.get */
  async get(options: QueueWaitOptions = {}): Promise<T> {
    const timeout = readTimeout(options, 'Queue.get');
    return this.#get(options?.block ?? true, timeout);
  }

  /** Python: Queue.get_nowait */
  getNowait(): Promise<T> {
    return this.#get(false, undefined);
  }

  async #get(block: boolean, timeout: number | undefined): Promise<T> {
    this.#checkOpen();
    const release = this.#backend.hold();
    try {
      const redis = await this.#client();
      let raw: Buffer | null = null;
      if (!block || (timeout !== undefined && timeout <= 0)) {
        raw = await redis.lpopBuffer(this.#key);
      } else {
        // A blocking pop holds its connection: each waiting get() gets its own, closed after.
        const blocking = redis.duplicate();
        this.#backend.track(blocking);
        try {
          const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
          while (raw === null) {
            const left = deadline - Date.now();
            if (left <= 0) break;
            const slice = Math.min(BLOCK_SLICE_S, left / 1000);
            const popped = await blocking.blpopBuffer(this.#key, Math.max(0.01, slice));
            if (popped) raw = popped[1];
          }
        } finally {
          this.#backend.untrack(blocking);
          blocking.disconnect();
        }
      }
      if (raw === null) throw new Empty();
      this.#gets++;
      this.#depth = Math.max(0, this.#depth - 1);
      return (await decodeAsync(deserialize(raw))) as T;
    } finally {
      release();
    }
  }

  /** The depth this process last saw (Python's is approximate too); `await qsizeNow()` asks Redis. Python: Queue.qsize */
  qsize(): number {
    return this.#depth;
  }

  /** The depth in Redis now. */
  async qsizeNow(): Promise<number> {
    this.#depth = await (await this.#client()).llen(this.#key);
    return this.#depth;
  }

  /** Python: Queue.empty */
  empty(): boolean {
    return this.#depth === 0;
  }

  /** Python: Queue.full */
  full(): boolean {
    return this.#state.maxsize > 0 && this.#depth >= this.#state.maxsize;
  }

  /** This process will put and get no more; the items stay in Redis for the others. Python: Queue.close */
  close(): void {
    this.#closed = true;
  }

  /** Nothing to join: a resolved put() is in Redis. Python: Queue.join_thread */
  joinThread(): void {}

  /** Python: Queue.cancel_join_thread */
  cancelJoinThread(): void {}

  /** JoinableQueue's: one item taken here is done. */
  protected taskDoneItem(): void {
    if (this.#dones >= this.#gets) throw new ValueError('task_done() called too many times');
    this.#dones++;
    const release = this.#backend.hold();
    void this.#client()
      .then((redis) => redis.decr(this.#unfinished))
      .catch(() => {})
      .finally(release);
  }

  /** JoinableQueue's: waits until every item put so far is done. */
  protected async joinItems(): Promise<void> {
    const release = this.#backend.hold();
    try {
      const redis = await this.#client();
      // taskDone() sends its decrement without waiting: let this process's own ones land first.
      for (;;) {
        const left = Number((await redis.get(this.#unfinished)) ?? 0);
        if (left <= 0) return;
        await sleep(POLL_MS);
      }
    } finally {
      release();
    }
  }

  [reduceSymbol](): ReducedObject {
    return { kind: 'BullmqQueue', state: { ...this.#state } };
  }
}

/** A Redis queue whose consumers say when each item is done, so producers can join(). Python: multiprocessing.JoinableQueue */
export class RedisJoinableQueue<T = unknown> extends RedisQueue<T> {
  constructor(backend: Backend, options: { maxsize?: number } = {}, state?: QueueState) {
    super(backend, options, state);
    this.markJoinable();
  }

  /** Marks one item taken by get() as processed. Python: JoinableQueue.task_done */
  taskDone(): void {
    this.taskDoneItem();
  }

  /** Resolves once every item put so far has been marked done. Python: JoinableQueue.join */
  join(): Promise<void> {
    return this.joinItems();
  }
}

registerReviver('BullmqQueue', (raw) => {
  const state = raw as QueueState;
  if (!reviveBackend)
    throw new ValueError('a bullmq Queue arrived in a process that has no bullmq backend: pass it only to tasks of a bullmq Pool or executor');
  const backend = reviveBackend();
  return state.joinable ? new RedisJoinableQueue(backend, { maxsize: state.maxsize }, state) : new RedisQueue(backend, { maxsize: state.maxsize }, state);
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
