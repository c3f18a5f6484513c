// Checks the shape of frames from the control channel before the model sees them: whatever a
// process sends, the model only ever gets well-typed, bounded data. Pure: no Node or vscode imports.
import { OBJECT_KINDS, type Hello, type ProcessRole, type RuntimeEvent, type SourceLocation, type StartMethod } from '../runtime/src/protocol';

const MAX_TEXT = 4096;
const MAX_LIST = 1024;
const START_METHODS = new Set<StartMethod>(['spawn', 'thread', 'forkserver', 'inline']);
const ROLES = new Set<ProcessRole>(['main', 'process', 'worker', 'manager', 'forkserver', 'external']);
const KINDS = new Set<string>(OBJECT_KINDS);
const STATES = new Set(['starting', 'running', 'waiting', 'idle', 'paused', 'exited', 'serving']);
const SYNC_OPS = new Set(['acquire', 'wait', 'release', 'timeout', 'set', 'clear', 'notify', 'broken', 'ownerDied']);
const TASK_OPS = new Set(['queued', 'started', 'done', 'failed', 'cancelled']);
const JOB_OPS = new Set(['submitted', 'done', 'failed', 'retried']);
const LEVELS = new Set(['debug', 'info', 'warn', 'error']);

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, max = MAX_TEXT): v is string => typeof v === 'string' && v.length <= max;
const isKey = (v: unknown): v is string => typeof v === 'string' && /^\d{1,10}(\/\d{1,10}|~\d{1,10})?$/.test(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isCount = (v: unknown): v is number => isInt(v) && v >= 0;
const isTs = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const opt = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v);
const isManagerCall = (c: unknown): boolean =>
  isObj(c) &&
  isText(c.id, 256) &&
  isText(c.typeid, 256) &&
  isText(c.method, 256) &&
  isTs(c.start) &&
  isTs(c.ms) &&
  (c.outcome === 'ok' || c.outcome === 'error') &&
  opt(c.error, (x) => isText(x, 1024));
const isList = (v: unknown, each: (x: unknown) => boolean): boolean => Array.isArray(v) && v.length <= MAX_LIST && v.every(each);
const isTextList = (v: unknown): boolean => isList(v, (x) => isText(x, 512));
const isSite = (v: unknown): v is SourceLocation => isObj(v) && isText(v.file) && isCount(v.line) && isCount(v.column);

const isClusterWorker = (w: unknown): boolean =>
  isObj(w) &&
  isText(w.name, 256) &&
  isText(w.host, 256) &&
  isCount(w.pid) &&
  isCount(w.capacity) &&
  isText(w.program, 512) &&
  isText(w.version, 128) &&
  isText(w.queue, 256) &&
  isTs(w.startedAt) &&
  typeof w.alive === 'boolean' &&
  isCount(w.jobsDone) &&
  isCount(w.jobsFailed) &&
  opt(w.running, isCount) &&
  opt(w.done, isCount) &&
  opt(w.failed, isCount);

/** A hello with every field of the right type (the token is checked by the server, in constant time). */
export function isHello(v: unknown): v is Hello {
  return (
    isObj(v) &&
    v.t === 'hello' &&
    isInt(v.v) &&
    isText(v.token, 256) &&
    isCount(v.pid) &&
    isInt(v.ppid) &&
    isCount(v.threadId) &&
    opt(v.parent, isKey) &&
    isText(v.name, 256) &&
    START_METHODS.has(v.startMethod as StartMethod) &&
    ROLES.has(v.role as ProcessRole) &&
    opt(v.inspectorUrl, (u) => isText(u, 512) && /^wss?:\/\/(127\.0\.0\.1|\[::1\]|localhost):\d+\//.test(u as string)) &&
    opt(v.entry, isText) &&
    opt(v.runtimeVersion, (x) => isText(x, 64)) &&
    opt(v.announceOnly, (x) => typeof x === 'boolean')
  );
}

/** Events of a batch that are well formed; unknown kinds (a newer runtime) are skipped, not fatal. Returns `undefined` when the frame itself is not a batch. */
export function eventsOf(v: unknown): RuntimeEvent[] | undefined {
  if (!isObj(v) || v.t !== 'events' || !Array.isArray(v.events)) return undefined;
  const out: RuntimeEvent[] = [];
  for (const e of v.events) if (isEvent(e)) out.push(e);
  return out;
}

export function isEvent(e: unknown): e is RuntimeEvent {
  if (!isObj(e) || !isTs(e.ts)) return false;
  switch (e.t) {
    case 'object':
      return isText(e.id, 256) && KINDS.has(e.kind as string) && opt(e.label, (x) => isText(x, 256)) && opt(e.site, isSite) && opt(e.capacity, isCount);
    case 'identity':
      return (
        opt(e.name, (x) => isText(x, 256)) &&
        opt(e.role, (x) => ROLES.has(x as ProcessRole)) &&
        opt(e.startMethod, (x) => START_METHODS.has(x as StartMethod)) &&
        opt(e.parent, isKey) &&
        opt(e.inspectorUrl, (x) => isText(x, 512)) &&
        opt(e.entry, isText)
      );
    case 'child.start':
      return (
        isKey(e.key) &&
        isCount(e.pid) &&
        isCount(e.threadId) &&
        isText(e.name, 256) &&
        START_METHODS.has(e.startMethod as StartMethod) &&
        ROLES.has(e.role as ProcessRole) &&
        opt(e.daemon, (x) => typeof x === 'boolean') &&
        opt(e.pool, (x) => isText(x, 256))
      );
    case 'child.exit':
      return isKey(e.key) && (e.exitCode === null || isInt(e.exitCode)) && opt(e.signal, (x) => x === null || isText(x, 32));
    case 'state':
      return STATES.has(e.state as string) && opt(e.on, (o) => isObj(o) && isText(o.id, 256) && KINDS.has(o.kind as string)) && opt(e.site, isSite);
    case 'queue':
      return isText(e.id, 256) && isCount(e.puts) && isCount(e.gets) && isCount(e.depth) && opt(e.putIds, isTextList) && opt(e.getIds, isTextList);
    case 'pipe':
      return (
        isText(e.id, 256) &&
        isCount(e.sent) &&
        isCount(e.received) &&
        isCount(e.bytesSent) &&
        isCount(e.bytesReceived) &&
        opt(e.peer, isKey) &&
        opt(e.previews, (x) => Array.isArray(x) && x.length <= 16 && x.every((p) => isText(p, 1024))) &&
        opt(e.sendIds, isTextList) &&
        opt(e.recvIds, isTextList)
      );
    case 'sync':
      return isText(e.id, 256) && SYNC_OPS.has(e.op as string) && opt(e.holder, (x) => x === null || isKey(x)) && opt(e.site, isSite);
    case 'task':
      return (
        isText(e.pool, 256) &&
        isCount(e.task) &&
        TASK_OPS.has(e.op as string) &&
        opt(e.worker, isKey) &&
        opt(e.fn, (x) => isText(x, 256)) &&
        opt(e.error, isText)
      );
    case 'pool':
      return (
        isText(e.pool, 256) &&
        isCount(e.queued) &&
        isCount(e.started) &&
        isCount(e.returned) &&
        isCount(e.dropped) &&
        isCount(e.finished) &&
        isTs(e.runMs) &&
        isCount(e.done) &&
        isCount(e.failed) &&
        isList(e.busy, isKey)
      );
    case 'cluster':
      return (
        isText(e.id, 512) &&
        isText(e.address, 256) &&
        isText(e.queue, 256) &&
        isCount(e.waiting) &&
        isCount(e.active) &&
        isCount(e.delayed) &&
        isCount(e.completed) &&
        isCount(e.failed) &&
        isCount(e.retried) &&
        isCount(e.submitted) &&
        isCount(e.ended) &&
        isList(e.workers, isClusterWorker)
      );
    case 'job':
      return (
        isText(e.cluster, 512) &&
        isText(e.job, 256) &&
        JOB_OPS.has(e.op as string) &&
        opt(e.fn, (x) => isText(x, 256)) &&
        opt(e.worker, (x) => isText(x, 512)) &&
        opt(e.pid, isCount) &&
        opt(e.startedAt, isTs) &&
        opt(e.error, isText)
      );
    case 'log':
      return LEVELS.has(e.level as string) && isText(e.text, 16 * 1024);
    case 'dropped':
      return isCount(e.count);
    case 'context':
      return opt(e.key, isKey);
    case 'manager':
      return (
        isText(e.manager, 300) &&
        (e.side === 'call' || e.side === 'serve') &&
        isList(e.calls, isManagerCall) &&
        opt(
          e.counted,
          (x) =>
            isObj(x) &&
            Object.keys(x).length <= 512 &&
            Object.keys(x).every((k) => k.length <= 512) &&
            Object.values(x).every((c) => isObj(c) && isCount(c.calls) && isCount(c.errors) && isTs(c.ms)),
        )
      );
    default:
      return false;
  }
}
