// What queues, pipes and locks tell the hub: creation, batched traffic, and waits as they begin and end.
// Calls telemetry.ts only; costs one boolean check when no hub listens. Traffic goes to telemetry's
// per-flush sums at each operation (never through timers of its own, which would not fire at exit).
import { callSite, emit, emitNow, isReporting, objectCreated, preview } from '../telemetry';
import type { ObjectKind, ObjectRef, SyncActivity } from '../protocol';

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

export function syncOp(id: string, op: SyncActivity['op'], holder?: string | null): void {
  if (isReporting()) emitNow({ t: 'sync', ts: Date.now(), id, op, holder, site: callSite() });
}

function noop(): void {}

/**
 * Queue traffic from the context that put or took (the hub names producers and consumers by who
 * reports) or, with zero counts, the owner's exact depth. Telemetry sums these per flush and sends the
 * last batch at exit, so nothing waits on a timer that may never fire.
 */
export function queueTraffic(id: string, puts: number, gets: number, depth: number): void {
  if (isReporting()) emit({ t: 'queue', ts: Date.now(), id, puts, gets, depth });
}

/** One message sent on (with its safe preview) or received from a pipe, by the context that did it. */
export function pipeSent(id: string, bytes: number, message: unknown, raw: boolean): void {
  if (!isReporting()) return;
  const text = raw ? `bytes(${bytes})` : preview(message);
  emit({ t: 'pipe', ts: Date.now(), id, sent: 1, received: 0, bytesSent: bytes, bytesReceived: 0, previews: [text] });
}

export function pipeReceived(id: string, bytes: number): void {
  if (isReporting()) emit({ t: 'pipe', ts: Date.now(), id, sent: 0, received: 1, bytesSent: 0, bytesReceived: bytes });
}
