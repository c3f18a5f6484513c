// The worker loop of a pool or executor, inside the child: runs batches of chunks in order and sends
// results back in batches (the fast path), flushing often enough that slow tasks report one by one.
// Runs only inside children; Node's modules only.
import { decodeAsync, encode, encodeThrown, isPlainData, PACKED_MIN } from './serialize';
import { MaybeEncodingError, PicklingError } from './errors';
import { loadTarget, type TargetRef } from './targets';
import type { StartPayload } from './popen';
import type { ParentChannel } from './spawn';
import { self } from './process';

/** A chunk on the wire: [taskId, targetId, star (1: fn(...item)), items]. */
export type WireChunk = [number, number, 0 | 1, unknown[]];

/** parent → worker */
export type ToWorker = { t: 'tasks'; defs?: Array<[number, TargetRef]>; batch: WireChunk[] } | { t: 'exit' };

/** worker → parent: [taskId, 1, results[]] or [taskId, 0, encodedError]; `us` is the time spent on them. */
export type FromWorker = { t: 'ready' } | { t: 'results'; r: Array<[number, 0 | 1, unknown]>; us: number };

/** Flush results at least this often while busy, so slow tasks report as they finish. */
const FLUSH_MS = 4;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Runs the worker until told to exit; returns the exit code. */
export async function runWorker(payload: StartPayload, channel: ParentChannel): Promise<number> {
  if (typeof payload.authkey === 'string') self.authkey = Buffer.from(payload.authkey, 'hex');
  maybeEncodingErrors = payload.maybeEncodingError === true;
  const initializer = payload.initializer as TargetRef | undefined;
  if (initializer) {
    const init = await loadTarget(initializer);
    const initargs = (await decodeAsync(payload.initargs ?? [])) as unknown[];
    await init(...initargs);
  }
  const targets = new Map<number, Function>();
  const pendingDefs = new Map<number, TargetRef>();
  const queue: WireChunk[] = [];
  let head = 0;
  let running = false;
  let exiting = false;
  let finished: (code: number) => void = () => {};
  const done = new Promise<number>((r) => (finished = r));
  let out: Array<[number, 0 | 1, unknown]> = [];
  let busySince = 0;

  const flush = (): void => {
    if (out.length === 0) return;
    const message: FromWorker = { t: 'results', r: out, us: Math.round((performance.now() - busySince) * 1000) };
    out = [];
    try {
      channel.send(message);
    } catch (error) {
      channel.send(sendable(message, error));
    }
  };

  const resolveTarget = async (id: number): Promise<Function> => {
    let fn = targets.get(id);
    if (fn) return fn;
    const ref = pendingDefs.get(id);
    if (!ref) throw new Error(`forkscope: unknown target ${id}`);
    fn = await loadTarget(ref);
    targets.set(id, fn);
    return fn;
  };

  const drain = async (): Promise<void> => {
    running = true;
    busySince = performance.now();
    let lastFlush = busySince;
    while (head < queue.length) {
      const [taskId, targetId, star, wireItems] = queue[head];
      queue[head++] = undefined as never;
      try {
        const fn = targets.get(targetId) ?? (await resolveTarget(targetId));
        // Packed numbers and plain data need no reviving; anything else may hold runtime objects, errors or functions.
        const items = wireItems instanceof Float64Array || isPlainData(wireItems) ? wireItems : ((await decodeAsync(wireItems)) as unknown[]);
        // Results go straight into a Float64Array while they are numbers (no boxed double per result, no second
        // pass to pack them); the first other value moves them to an Array.
        let packed = items.length >= PACKED_MIN ? new Float64Array(items.length) : undefined;
        let results: unknown[] | undefined = packed ? undefined : new Array(items.length);
        for (let i = 0; i < items.length; i++) {
          let r = star ? fn(...(items[i] as unknown[])) : fn(items[i]);
          if (isThenable(r)) r = await r;
          if (packed) {
            if (typeof r === 'number') {
              packed[i] = r;
              continue;
            }
            results = Array.from(packed.subarray(0, i));
            results.length = items.length;
            packed = undefined;
          }
          results![i] = r;
        }
        out.push([taskId, 1, packed ?? (isPlainData(results) ? results : encodeResults(taskId, results!))]);
      } catch (error) {
        out.push([taskId, 0, encodeThrown(error)]);
      }
      const now = performance.now();
      if (now - lastFlush >= FLUSH_MS) {
        flush();
        busySince = lastFlush = now;
      }
    }
    queue.length = 0;
    head = 0;
    flush();
    running = false;
    if (exiting) finished(0);
  };

  channel.onMessage((raw) => {
    const message = raw as ToWorker;
    if (message.t === 'exit') {
      exiting = true;
      if (!running) finished(0);
      return;
    }
    if (message.t !== 'tasks') return;
    if (message.defs) for (const [id, ref] of message.defs) pendingDefs.set(id, ref);
    for (const chunk of message.batch) queue.push(chunk);
    if (!running) void drain();
  });
  channel.send({ t: 'ready' } satisfies FromWorker);
  const code = await done;
  channel.close();
  return code;
}

/** A Pool's worker (not an executor's): a result that cannot be sent back is a MaybeEncodingError, as Python's Pool. */
let maybeEncodingErrors = false;

/** Short text for a value, as Python's repr() in MaybeEncodingError. */
function describeValue(value: unknown): string {
  try {
    if (typeof value === 'function') return `[Function: ${value.name || '(anonymous)'}]`;
    if (typeof value === 'symbol') return value.toString();
    const text =
      typeof value === 'object' && value !== null
        ? Array.isArray(value)
          ? `[${value.map(describeValue).join(', ')}]`
          : Object.prototype.toString.call(value)
        : String(value);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return typeof value;
  }
}

/** The error a task gets when its result cannot cross: PicklingError (executor), MaybeEncodingError (Pool). */
function resultError(taskId: number, cause: unknown, value: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  if (maybeEncodingErrors) return new MaybeEncodingError(cause instanceof Error ? `${cause.name}: ${reason}` : reason, describeValue(value));
  return new PicklingError(`the result of task ${taskId} could not be sent back to the parent: ${reason}`);
}

/** Results with runtime objects, errors or functions inside, encoded; one that cannot cross fails its task, naming why. */
function encodeResults(taskId: number, results: unknown[]): unknown[] {
  try {
    return encode(results, { startMethod: 'spawn', transfer: [] }, 'result') as unknown[];
  } catch (error) {
    throw resultError(taskId, error, results.length === 1 ? results[0] : results);
  }
}

/** A results batch where every value that cannot be cloned is replaced by an error naming the task. */
function sendable(message: Extract<FromWorker, { t: 'results' }>, cause: unknown): FromWorker {
  const r = message.r.map(([taskId, ok, value]): [number, 0 | 1, unknown] => {
    try {
      structuredClone(value);
      return [taskId, ok, value];
    } catch (error) {
      return [taskId, 0, encodeThrown(resultError(taskId, error instanceof Error ? error : cause, value))];
    }
  });
  return { t: 'results', r, us: message.us };
}
