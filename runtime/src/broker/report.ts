// What queues, pipes and locks tell the hub: creation, batched traffic, and waits as they begin and end.
// Calls telemetry.ts only; costs one boolean check when no hub listens. Traffic goes to telemetry's
// per-flush sums at each operation (never through timers of its own, which would not fire at exit).
import { beforeFlush, callSite, captureStack, emit, emitNow, isInline, isReporting, messageId, objectCreated, preview, siteInStack } from '../telemetry';
import type { ObjectKind, ObjectRef, PipeActivity, QueueActivity, SyncActivity } from '../protocol';

/** Declares a new object; returns its program-wide id. */
export function created(kind: ObjectKind, capacity?: number): string {
  return objectCreated(kind, { capacity, site: isReporting() ? callSite() : undefined });
}

/** Marks this context as waiting on `ref` until the returned function is called. */
export function waiting(ref: ObjectRef): () => void {
  if (!isReporting()) return noop;
  emitNow({ t: 'state', ts: Date.now(), state: 'waiting', on: ref, site: callSite() });
  return () => emitNow({ t: 'state', ts: Date.now(), state: 'running' });
}

/** A queue wait is reported once it lasted this long: a consumer that drains faster than its producers waits at every other item. */
const BRIEF_WAIT_MS = 20;

/**
 * waiting() for waits that are usually over in a moment: reported only once it lasted BRIEF_WAIT_MS (then
 * as waiting() would, with its call site), so a busy queue under a hub costs no event per wait.
 */
export function waitingUnlessBrief(ref: ObjectRef): () => void {
  if (!isReporting()) return noop;
  const captured = captureStack();
  let reported = false;
  const timer = setTimeout(() => {
    reported = true;
    emitNow({ t: 'state', ts: Date.now(), state: 'waiting', on: ref, site: siteInStack(captured.stack) });
  }, BRIEF_WAIT_MS);
  timer.unref();
  return () => {
    clearTimeout(timer);
    if (reported) emitNow({ t: 'state', ts: Date.now(), state: 'running' });
  };
}

export function syncOp(id: string, op: SyncActivity['op'], holder?: string | null): void {
  if (isReporting()) emitNow({ t: 'sync', ts: Date.now(), id, op, holder, site: callSite() });
}

function noop(): void {}

/**
 * Queue traffic as one context sees it: its own puts and gets (the hub names producers and consumers
 * by who reports) and, from the owner, the exact depth. Per operation it only adds; the first count
 * of a window goes to telemetry at once (which starts telemetry's flush timer) and the rest is handed
 * over by a `beforeFlush` hook, which also runs for the last batch at exit: nothing waits on a timer
 * of its own that may never fire.
 */
export class QueueTraffic {
  readonly #id: string;
  readonly #depth: () => number;
  #puts = 0;
  #gets = 0;
  #putIds: string[] = [];
  #getIds: string[] = [];
  #changed = false;
  #unhook: (() => void) | undefined;
  /** Items this context may still give an id in this window (the rest are counted only). */
  #traceLeft = TRACED_PUTS_PER_FLUSH;

  /** @param depth read only when reporting (a remote queue's depth is a system call). */
  constructor(id: string, depth: () => number) {
    this.#id = id;
    this.#depth = depth;
  }

  /**
   * A message id for the next item put, while this window's budget lasts (undefined without a hub, or past it):
   * the item carries it, and the put's and the get's reports name it, so the trace joins the two by message.
   */
  traceId(): string | undefined {
    if (!isReporting() || this.#traceLeft <= 0) return undefined;
    this.#traceLeft--;
    return messageId();
  }

  /** `id`: the message id of the item put or taken, when it carries one. */
  count(puts: number, gets: number, id?: string): void {
    if (!isReporting()) return;
    // Every report says which items it names (none, when none was traced): the trace never pairs them by order.
    const ids = (): Pick<QueueActivity, 'putIds' | 'getIds'> => ({
      putIds: id !== undefined && puts > 0 ? [id] : [],
      getIds: id !== undefined && gets > 0 ? [id] : [],
    });
    // Single-process mode: each count goes as it happens, so telemetry sums it for the inline process that made it.
    if (isInline()) return emit({ t: 'queue', ts: Date.now(), id: this.#id, puts, gets, depth: this.#depth(), ...ids() });
    if (this.#unhook === undefined) {
      this.#unhook = beforeFlush(this.#handOver);
      emit({ t: 'queue', ts: Date.now(), id: this.#id, puts, gets, depth: this.#depth(), ...ids() });
      return;
    }
    this.#puts += puts;
    this.#gets += gets;
    if (id !== undefined) (puts > 0 ? this.#putIds : this.#getIds).push(id);
    this.#changed = true;
  }

  readonly #handOver = (): void => {
    this.#unhook?.();
    this.#unhook = undefined;
    this.#traceLeft = TRACED_PUTS_PER_FLUSH;
    if (!this.#changed) return;
    emit({ t: 'queue', ts: Date.now(), id: this.#id, puts: this.#puts, gets: this.#gets, depth: this.#depth(), putIds: this.#putIds, getIds: this.#getIds });
    this.#puts = this.#gets = 0;
    this.#putIds = [];
    this.#getIds = [];
    this.#changed = false;
  };
}

/**
 * Pipe traffic as one context sees it, likewise: messages and bytes it sent (with safe previews of the
 * last few) and received; the first of a window goes at once, the rest in telemetry's beforeFlush hook.
 */
export class PipeTraffic {
  readonly #id: string;
  #sent = 0;
  #received = 0;
  #bytesSent = 0;
  #bytesReceived = 0;
  #previews: string[] = [];
  #sendIds: string[] = [];
  #recvIds: string[] = [];
  #unhook: (() => void) | undefined;
  /** Messages this context may still give an id before the next flush (the rest are counted only). */
  #traceLeft = TRACED_PUTS_PER_FLUSH;

  constructor(id: string) {
    this.#id = id;
  }

  /** A message id for the next message sent, while the budget lasts (undefined without a hub, or past it). */
  traceId(): string | undefined {
    if (!isReporting() || this.#traceLeft <= 0) return undefined;
    this.#traceLeft--;
    return messageId();
  }

  /** One message sent (`id`: the message id it carries, if any); `raw` bytes are previewed by their size only. */
  sent(bytes: number, message: unknown, raw: boolean, id?: string): void {
    if (!isReporting()) return;
    this.#previews.push(raw ? `bytes(${bytes})` : preview(message));
    if (this.#previews.length > MAX_PREVIEWS) this.#previews.shift();
    if (id !== undefined) this.#sendIds.push(id);
    this.#add(1, 0, bytes, 0);
  }

  received(bytes: number, id?: string): void {
    if (!isReporting()) return;
    if (id !== undefined) this.#recvIds.push(id);
    this.#add(0, 1, 0, bytes);
  }

  #add(sent: number, received: number, bytesSent: number, bytesReceived: number): void {
    this.#sent += sent;
    this.#received += received;
    this.#bytesSent += bytesSent;
    this.#bytesReceived += bytesReceived;
    if (isInline()) return this.#emit();
    if (this.#unhook === undefined) {
      this.#unhook = beforeFlush(this.#handOver);
      this.#emit();
    }
  }

  #emit(): void {
    if (this.#sent === 0 && this.#received === 0) return;
    // Every report says which messages it names (none, when none was traced): the trace never pairs them by order.
    const event: PipeActivity = {
      t: 'pipe',
      ts: Date.now(),
      id: this.#id,
      sent: this.#sent,
      received: this.#received,
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
      sendIds: this.#sendIds,
      recvIds: this.#recvIds,
    };
    if (this.#previews.length > 0) event.previews = this.#previews;
    emit(event);
    this.#sent = this.#received = this.#bytesSent = this.#bytesReceived = 0;
    this.#previews = [];
    this.#sendIds = [];
    this.#recvIds = [];
  }

  readonly #handOver = (): void => {
    this.#unhook?.();
    this.#unhook = undefined;
    this.#traceLeft = TRACED_PUTS_PER_FLUSH;
    this.#emit();
  };
}

/**
 * Items (messages) a context puts (sends) with a message id per queue (pipe end) and flush; the rest are counted only. Telemetry keeps 256 ids
 * per queue and flush, so up to 8 producers at full rate leave every consumer's ids whole.
 */
const TRACED_PUTS_PER_FLUSH = 32;

/** Previews kept per flush, as telemetry keeps them. */
const MAX_PREVIEWS = 3;

/** How often a creator looks at the depth of its queues kept in shared memory (telemetry flushes as often). */
const DEPTH_SAMPLE_MS = 200;

interface Watched {
  id: string;
  target: WeakRef<object>;
  read: (target: object) => number;
  last: number;
}

const watched = new Set<Watched>();
let sampler: NodeJS.Timeout | undefined;
/** Also sampled right before each batch goes out, the last one at exit included. */
let unhookSampler: (() => void) | undefined;

/**
 * The creator reports the exact depth of a queue whose items live in shared memory even when it neither
 * puts nor gets (the hub takes depth from the creator only): sampled a few times a second while a hub
 * listens, sent only when it changed; nothing at all without a hub. Ends when `target` is collected.
 */
export function watchDepth<T extends object>(id: string, target: T, read: (target: T) => number): void {
  if (!isReporting()) return;
  watched.add({ id, target: new WeakRef(target), read: read as (target: object) => number, last: -1 });
  sampler ??= setInterval(sampleDepths, DEPTH_SAMPLE_MS).unref();
  unhookSampler ??= beforeFlush(sampleDepths);
}

function sampleDepths(): void {
  if (!isReporting()) watched.clear();
  for (const w of watched) {
    const target = w.target.deref();
    if (!target) {
      watched.delete(w);
      continue;
    }
    const depth = w.read(target);
    if (depth === w.last) continue;
    w.last = depth;
    emit({ t: 'queue', ts: Date.now(), id: w.id, puts: 0, gets: 0, depth });
  }
  if (watched.size === 0) {
    clearInterval(sampler);
    sampler = undefined;
    unhookSampler?.();
    unhookSampler = undefined;
  }
}
