// What Manager calls tell the hub: each call as its caller saw it (typeid, method, duration, outcome) and
// as the server handled it, joined by an id the request carries. A stream of calls costs one event per
// flush: past the first calls of each interval, calls are only counted (as a pool counts its tasks), and
// the server details exactly the calls its caller detailed. One boolean check when no hub listens.
import { performance } from 'node:perf_hooks';
import { beforeFlush, emit, isInline, isReporting, messageId } from '../telemetry';
import type { ManagerCalls } from '../protocol';

/** Calls detailed per interval per process; the rest are counted. */
const DETAILED_CALLS_PER_INTERVAL = 32;
const DETAIL_INTERVAL_MS = 200;
/** Distinct `typeid.method` keys counted per flush; past it, calls go under `*.*`. */
const MAX_COUNTED_KEYS = 256;
/** Detailed calls per event (the hub takes up to 1,024); a server with many callers counts the rest. */
const MAX_CALLS_PER_EVENT = 512;

/** A call under way in its caller, reported when it settles. */
export interface CallReport {
  manager: string;
  typeid: string;
  method: string;
  start: number;
  t0: number;
  /** Present when this call is detailed: the request carries it, so the server reports it under the same id. */
  id?: string;
}

let detailWindow = 0;
let detailLeft = 0;
/** The open event per side and manager, changed in place until the flush closes it. */
const open = new Map<string, ManagerCalls>();
let unhook: (() => void) | undefined;

/** Begins reporting a call to the manager at `address`; undefined when no hub listens. */
export function beginCall(address: readonly [string, number], typeid: string, method: string): CallReport | undefined {
  if (!isReporting()) return undefined;
  const start = Date.now();
  const report: CallReport = { manager: `${address[0]}:${address[1]}`, typeid, method, start, t0: performance.now() };
  if (start - detailWindow >= DETAIL_INTERVAL_MS) {
    detailWindow = start;
    detailLeft = DETAILED_CALLS_PER_INTERVAL;
  }
  if (detailLeft > 0) {
    detailLeft--;
    report.id = messageId();
  }
  return report;
}

/** The call settled (with `error` when it failed). */
export function endCall(report: CallReport, error?: unknown, failed = error !== undefined): void {
  add('call', report.manager, report.typeid, report.method, report.id, report.start, performance.now() - report.t0, failed, error);
}

/** The server handled a call (`id`: the caller's, when it detailed the call). */
export function served(
  manager: string,
  typeid: string,
  method: string,
  id: string | undefined,
  start: number,
  ms: number,
  failed: boolean,
  error?: unknown,
): void {
  add('serve', manager, typeid, method, id, start, ms, failed, error);
}

/** Resolves or rejects as `promise` does, reporting the call when it settles. */
export function reported<T>(report: CallReport | undefined, promise: Promise<T>): Promise<T> {
  if (!report) return promise;
  return promise.then(
    (value) => {
      endCall(report);
      return value;
    },
    (error: unknown) => {
      endCall(report, error, true);
      throw error;
    },
  );
}

function add(
  side: 'call' | 'serve',
  manager: string,
  typeid: string,
  method: string,
  id: string | undefined,
  start: number,
  ms: number,
  failed: boolean,
  error: unknown,
): void {
  if (!isReporting()) return;
  const rounded = Math.round(ms * 1000) / 1000;
  // Single-process mode: each call goes as it happens, so telemetry gives it to the inline process that made it.
  const event = isInline() ? { t: 'manager' as const, ts: Date.now(), manager, side, calls: [] } : openEvent(side, manager);
  event.ts = Date.now();
  if (id !== undefined && event.calls.length < MAX_CALLS_PER_EVENT) {
    event.calls.push({ id, typeid, method, start, ms: rounded, outcome: failed ? 'error' : 'ok', ...(failed ? { error: describe(error) } : {}) });
  } else {
    const counted = (event.counted ??= Object.create(null) as NonNullable<ManagerCalls['counted']>);
    let key = `${typeid}.${method}`;
    if (!(key in counted) && Object.keys(counted).length >= MAX_COUNTED_KEYS) key = '*.*';
    const c = (counted[key] ??= { calls: 0, errors: 0, ms: 0 });
    c.calls++;
    if (failed) c.errors++;
    c.ms = Math.round((c.ms + ms) * 1000) / 1000;
  }
  if (isInline()) emit(event);
}

function openEvent(side: 'call' | 'serve', manager: string): ManagerCalls {
  const key = `${side} ${manager}`;
  let event = open.get(key);
  if (event) return event;
  event = { t: 'manager', ts: Date.now(), manager, side, calls: [] };
  open.set(key, event);
  unhook ??= beforeFlush(close);
  // In the batch from now on; add() changes it in place until the flush closes it.
  emit(event);
  return event;
}

function close(): void {
  open.clear();
  unhook?.();
  unhook = undefined;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return String(error).slice(0, 300);
}
