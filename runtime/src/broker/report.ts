// What queues, pipes and locks tell the hub: creation, batched traffic, and waits as they begin and end.
// Calls telemetry.ts only; costs one boolean check when no hub listens.
import { callSite, emit, emitNow, isReporting, objectCreated } from '../telemetry';
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

/** Queue traffic, added up in-process and handed to telemetry a few times a second. */
export class QueueCounter {
  #puts = 0;
  #gets = 0;
  #depth = 0;
  #scheduled = false;
  readonly #id: string;
  constructor(id: string) {
    this.#id = id;
  }
  count(puts: number, gets: number, depth: number): void {
    if (!isReporting()) return;
    this.#puts += puts;
    this.#gets += gets;
    this.#depth = depth;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      emit({ t: 'queue', ts: Date.now(), id: this.#id, puts: this.#puts, gets: this.#gets, depth: this.#depth });
      this.#puts = 0;
      this.#gets = 0;
    }, 200).unref();
  }
}

/** Pipe traffic, likewise. */
export class PipeCounter {
  #sent = 0;
  #received = 0;
  #bytesSent = 0;
  #bytesReceived = 0;
  #scheduled = false;
  readonly #id: string;
  constructor(id: string) {
    this.#id = id;
  }
  count(sent: number, received: number, bytes: number): void {
    if (!isReporting()) return;
    this.#sent += sent;
    this.#received += received;
    if (sent) this.#bytesSent += bytes;
    else this.#bytesReceived += bytes;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      emit({ t: 'pipe', ts: Date.now(), id: this.#id, sent: this.#sent, received: this.#received, bytesSent: this.#bytesSent, bytesReceived: this.#bytesReceived });
      this.#sent = this.#received = this.#bytesSent = this.#bytesReceived = 0;
    }, 200).unref();
  }
}
