// Reports what the runtime's objects do to the hub over the control channel, when one is set.
// With no FORKSCOPE_HUB every function here is a cheap no-op. Node's own modules only.
//
// CONTRACT for the rest of the runtime (owned by the observability work, issue 5): the names and
// signatures below are what process, pool, queue, pipe and lock code call. Writes never block the
// program: over budget they are dropped and counted, and a hub that vanishes only ends reporting.
import { createConnection, type Socket } from 'node:net';
import { isMainThread, threadId as currentThreadId } from 'node:worker_threads';
import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSourceMap } from 'node:module';
import {
  ENV,
  FRAME_HEADER_BYTES,
  MAX_FRAME_BYTES,
  MAX_PREVIEW_CHARS,
  PROTOCOL_VERSION,
  processKey,
  type Hello,
  type ObjectKind,
  type PipeActivity,
  type ProcessKey,
  type QueueActivity,
  type RuntimeEvent,
  type SourceLocation,
} from './protocol';
import { FrameSplitter, lengthPrefixed } from './framing';
import { atExit } from './atExit';

type Identity = Pick<Hello, 'name' | 'startMethod' | 'role'> & Partial<Pick<Hello, 'parent' | 'inspectorUrl' | 'entry'>>;

/** Batched events are sent this often; waits and state changes go at once. */
const FLUSH_INTERVAL_MS = 200;
/** Bytes the socket may hold unsent before new batches are dropped and counted. */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;
/** Events held between flushes before new ones are dropped and counted. */
const MAX_PENDING_EVENTS = 20_000;
/** Message ids kept per aggregated queue/pipe record between flushes (for trace flow arrows). */
const MAX_IDS_PER_FLUSH = 256;
const MAX_PREVIEWS = 3;
/** A hello the hub never answers does not hold up a child's start for long. */
const WELCOME_TIMEOUT_MS = 2_000;
/** A hub that has not taken a pending write for this long is considered gone. */
const STALL_MS = 2_000;

const hubAddress = process.env[ENV.hub];
const hubToken = process.env[ENV.token];
/**
 * Everything mutable lives on one object per thread, found through a global symbol: the preload
 * bundles its own copy of this module, and a program may load the runtime from two places; all
 * copies must share one connection, one hello and one set of counters.
 */
interface TelemetryState {
  reporting: boolean;
  socket: Socket | undefined;
  identity: Identity | undefined;
  welcomed: Promise<void> | undefined;
  autoConnect: NodeJS.Immediate | undefined;
  flushTimer: NodeJS.Timeout | undefined;
  pending: RuntimeEvent[];
  queues: Map<string, QueueActivity>;
  pipes: Map<string, PipeActivity>;
  dropped: number;
  droppedTotal: number;
  exitHooked: boolean;
  stallTimer: NodeJS.Timeout | undefined;
  sendSoon: NodeJS.Immediate | undefined;
  /** Raw (generated) call position → the user's source location, source-mapped once. */
  sites: Map<string, SourceLocation | null>;
  beforeSend: Set<() => void>;
  nextObject: number;
  nextMessage: number;
  /** Single-process mode: the inline process running now (its key), set by process.ts. */
  inline?: () => ProcessKey | undefined;
  /** The context the last event queued for sending was on behalf of. */
  sentContext?: ProcessKey | undefined;
  /** Merged queue and pipe sums: the inline process each is for. */
  mergedContext?: WeakMap<object, ProcessKey | undefined>;
}
const STATE_KEY = Symbol.for('forkscope.telemetry.v1');
const S: TelemetryState = ((globalThis as Record<symbol, TelemetryState | undefined>)[STATE_KEY] ??= {
  reporting: Boolean(hubAddress && hubToken),
  socket: undefined,
  identity: undefined,
  welcomed: undefined,
  autoConnect: undefined,
  flushTimer: undefined,
  pending: [],
  queues: new Map(),
  pipes: new Map(),
  dropped: 0,
  droppedTotal: 0,
  exitHooked: false,
  stallTimer: undefined,
  sendSoon: undefined,
  sites: new Map(),
  beforeSend: new Set(),
  nextObject: 0,
  nextMessage: 0,
});

/** True when this process reports to a hub (FORKSCOPE_HUB and FORKSCOPE_TOKEN are set and the hub is still there). */
export function isReporting(): boolean {
  return S.reporting;
}

/** This process's (or worker's) key, as the hub knows it. */
export function selfKey(): ProcessKey {
  return processKey(process.pid, currentThreadId);
}

/** Says hello once per process or worker; resolves when the hub has the hello (at once with no hub). */
export async function connect(who: Identity): Promise<void> {
  if (!S.reporting) return;
  if (S.socket) {
    // Said hello already (the preload speaks first): correct the identity instead.
    if (
      !S.identity ||
      who.name !== S.identity.name ||
      who.role !== S.identity.role ||
      who.startMethod !== S.identity.startMethod ||
      who.parent !== S.identity.parent ||
      who.inspectorUrl !== S.identity.inspectorUrl ||
      who.entry !== S.identity.entry
    ) {
      S.identity = who;
      emitNow({ t: 'identity', ts: Date.now(), ...who });
    }
    return S.welcomed;
  }
  S.identity = who;
  open(who);
  return S.welcomed;
}

/** Queues an event for the next flush (a few times a second); queue and pipe activity is summed per object. */
export function emit(event: RuntimeEvent): void {
  if (!S.reporting) return;
  if (S.inline) return emitInline(event);
  if (event.t === 'queue') mergeQueue(event);
  else if (event.t === 'pipe') mergePipe(event);
  else if (S.pending.length < MAX_PENDING_EVENTS) S.pending.push(event);
  else drop(1);
  schedule();
}

/** Sends an event at once: waits, state changes, lock operations, process start/exit. */
export function emitNow(event: RuntimeEvent): void {
  if (!S.reporting) return;
  if (S.inline) pushContext(S.pending, S.inline());
  if (S.pending.length < MAX_PENDING_EVENTS) S.pending.push(event);
  else drop(1);
  if (!S.socket) return schedule();
  // "At once" is the end of this turn of the event loop: a burst of waits costs one write, not one each.
  if (!S.sendSoon) {
    S.sendSoon = setImmediate(() => {
      S.sendSoon = undefined;
      send();
    });
    S.sendSoon.unref();
  }
}

/** Single-process mode: `current` names the inline process running now, so what it does is its own in the model. */
export function setInlineContext(current: () => ProcessKey | undefined): void {
  S.inline = current;
}

/** Single-process mode with inline processes started: callers that sum their own traffic send each count instead. */
export function isInline(): boolean {
  return S.inline !== undefined;
}

/** emit() in single-process mode: queue and pipe sums are kept per inline process. */
function emitInline(event: RuntimeEvent): void {
  const context = S.inline!();
  if (event.t === 'queue' || event.t === 'pipe') {
    const map: Map<string, RuntimeEvent> = event.t === 'queue' ? S.queues : S.pipes;
    const mapKey = context === undefined ? event.id : `${context}|${event.id}`;
    const held = map.get(mapKey);
    if (held) {
      if (event.t === 'queue') mergeQueueInto(held as QueueActivity, event);
      else mergePipeInto(held as PipeActivity, event);
    } else {
      const copy = event.t === 'queue' ? firstQueue(event) : firstPipe(event);
      map.set(mapKey, copy);
      (S.mergedContext ??= new WeakMap()).set(copy, context);
    }
  } else {
    pushContext(S.pending, context);
    if (S.pending.length < MAX_PENDING_EVENTS) S.pending.push(event);
    else drop(1);
  }
  schedule();
}

function pushContext(events: RuntimeEvent[], context: ProcessKey | undefined): void {
  if (context === S.sentContext) return;
  S.sentContext = context;
  events.push(context === undefined ? { t: 'context', ts: Date.now() } : { t: 'context', ts: Date.now(), key: context });
}

/** A program-wide unique id for a new object; also reports the object when reporting. */
export function objectCreated(kind: ObjectKind, options: { label?: string; capacity?: number; site?: SourceLocation } = {}): string {
  const id = `${kind}-${process.pid}${currentThreadId === 0 ? '' : `.${currentThreadId}`}-${S.nextObject++}`;
  if (S.reporting) emitNow({ t: 'object', ts: Date.now(), id, kind, ...options });
  return id;
}

/** A program-wide unique id for one message on a queue or pipe: the sender puts it in `putIds`/`sendIds`, the receiver in `getIds`/`recvIds`. */
export function messageId(): string {
  return `${process.pid}.${currentThreadId}.${S.nextMessage++}`;
}

/** A short, safe rendering of a value for previews: never runs user code (no getters, no toString), truncated. */
export function preview(value: unknown): string {
  const text = previewOf(value, 0);
  return text.length > MAX_PREVIEW_CHARS ? `${text.slice(0, MAX_PREVIEW_CHARS - 1)}…` : text;
}

const ownDir = typeof __filename === 'string' ? dirname(__filename) + sep : '\0';
const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

/**
 * Where user code called into the runtime: the first stack frame outside forkscope (undefined when
 * not reporting, to cost nothing). Frames are read raw (cheap); each raw position is source-mapped
 * once and remembered.
 */
export function callSite(options: { always?: boolean } = {}): SourceLocation | undefined {
  if (!S.reporting && !options.always) return undefined;
  const raw = rawUserFrame();
  if (raw === undefined) return mappedCallSite();
  const key = `${raw.file}:${raw.line}:${raw.column}`;
  let site = S.sites.get(key);
  if (site === undefined) {
    site = mapFrame(raw.file, raw.line, raw.column) ?? null;
    if (S.sites.size < 10_000) S.sites.set(key, site);
  }
  return site ?? undefined;
}

function rawUserFrame(): { file: string; line: number; column: number } | undefined {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let frames: NodeJS.CallSite[] | undefined;
  try {
    Error.stackTraceLimit = 30;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, rawUserFrame);
    frames = holder.stack as NodeJS.CallSite[];
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  if (!Array.isArray(frames)) return undefined;
  for (const frame of frames) {
    const file = frame.getFileName?.() ?? undefined;
    if (!file || file.startsWith('node:') || file.startsWith('internal/')) continue;
    const path = file.startsWith('file://') ? safePath(file) : file;
    if (path === undefined || path.startsWith(ownDir) || isRuntimeSource(path)) continue;
    return { file, line: frame.getLineNumber() ?? 0, column: frame.getColumnNumber() ?? 0 };
  }
  return undefined;
}

/** Node's own formatter shows as ErrorPrepareStackTrace (Node 20+) or not at all; any other was set by the program or a library. */
function hasOwnStackFormatter(): boolean {
  const format = Error.prepareStackTrace;
  return typeof format === 'function' && format.name !== 'ErrorPrepareStackTrace';
}

/**
 * A raw position in the user's file as the user wrote it. Node's own source maps (tsx, --enable-source-maps) are
 * read for that one file: formatting a whole stack instead would parse the map of every file in it, the
 * runtime's own bundle first (a 360 kB map, ~150 ms of CPU in each process that creates a Queue, Pool or Lock
 * under a hub). A stack formatter of the program's own (Error.prepareStackTrace) is asked through a stack.
 */
function mapFrame(file: string, line: number, column: number): SourceLocation | undefined {
  if (hasOwnStackFormatter()) return mappedCallSite();
  let entry: { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
  try {
    entry = findSourceMap(file)?.findEntry(line - 1, column - 1) as typeof entry;
  } catch {
    entry = undefined;
  }
  if (entry?.originalSource && entry.originalLine !== undefined && entry.originalColumn !== undefined) {
    const original = entry.originalSource.startsWith('file://') ? safePath(entry.originalSource) : entry.originalSource;
    if (original !== undefined) return { file: original, line: entry.originalLine + 1, column: entry.originalColumn + 1 };
  }
  const path = file.startsWith('file://') ? safePath(file) : file;
  return path === undefined ? undefined : { file: path, line, column };
}

function safePath(url: string): string | undefined {
  try {
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}

function mappedCallSite(): SourceLocation | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return siteInStack(stack);
}

/**
 * A stack captured now and read only if needed: V8 formats (and source-maps) a captured stack when it is
 * first read, so a wait that is over in a moment pays for the capture only.
 */
export function captureStack(): { stack?: string } {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  Error.captureStackTrace(holder, captureStack);
  Error.stackTraceLimit = limit;
  return holder;
}

/** The user's call site in a stack from captureStack(): its first frame outside forkscope. */
export function siteInStack(stack: string | undefined): SourceLocation | undefined {
  const lines = (stack ?? '').split('\n');
  for (let i = 1; i < lines.length; i++) {
    const match = FRAME.exec(lines[i]!);
    if (!match) continue;
    let file = match[1]!;
    if (file.startsWith('node:') || file.startsWith('internal/') || file === 'native') continue;
    if (file.startsWith('file://')) {
      const path = safePath(file);
      if (path === undefined) continue;
      file = path;
    }
    if (file.startsWith(ownDir) || isRuntimeSource(file)) continue;
    return { file, line: Number(match[2]), column: Number(match[3]) };
  }
  return undefined;
}

/** Flushes what is batched; called before a process exits. Resolves when the bytes are handed to the OS (or given up on). */
export async function flush(): Promise<void> {
  if (!S.reporting) return;
  send();
  if (!S.socket || S.socket.destroyed || S.socket.writableLength === 0) return;
  const s: Socket = S.socket;
  await new Promise<void>((resolve) => {
    // Ref'd while flushing, so a program whose last act is `await flush()` lives until the bytes are out.
    const timer = setTimeout(done, 1_000);
    s.once('drain', done);
    s.once('close', done);
    function done(): void {
      clearTimeout(timer);
      s.off('drain', done);
      s.off('close', done);
      resolve();
    }
  });
}

/** Ends reporting from this process: flushes, then closes the connection. Used by tests and at exit. */
export function disconnect(): void {
  if (!S.reporting) return;
  send();
  stop();
}

/**
 * Runs `hook` before every batch is sent, including the last one at exit: a counter that sums in its
 * own object hands its sums to `emit()` there, so nothing is lost to a timer that never fires.
 * Returns a function that removes the hook. (Plain `emit()` per operation needs none: it is summed here.)
 */
export function beforeFlush(hook: () => void): () => void {
  S.beforeSend.add(hook);
  return () => S.beforeSend.delete(hook);
}

/** Events this process dropped because the hub did not keep up (for tests and benchmarks). */
export function droppedEvents(): number {
  return S.droppedTotal;
}

// ---- internals --------------------------------------------------------------------------------

function isRuntimeSource(file: string): boolean {
  // Running from sources (tests through tsx): the runtime's own files are not the user's call site.
  return file.includes(`${sep}runtime${sep}src${sep}`) || file.includes(`${sep}node_modules${sep}forkscope${sep}`);
}

function defaultIdentity(): Identity {
  // FORKSCOPE_PARENT is set (by the preload) in every process of a session but the first.
  const parent = process.env[ENV.parent] || undefined;
  if (!isMainThread) return { name: `Thread-${currentThreadId}`, startMethod: 'thread', role: 'external', parent: parent ?? String(process.pid) };
  if (parent === undefined) return { name: 'MainProcess', startMethod: 'spawn', role: 'main' };
  const script = process.argv[1];
  return {
    name: script ? script.slice(Math.max(script.lastIndexOf('/'), script.lastIndexOf('\\')) + 1) : 'node',
    startMethod: 'spawn',
    role: 'external',
    parent,
  };
}

function drop(count: number): void {
  S.dropped += count;
  S.droppedTotal += count;
}

function schedule(): void {
  if (!S.socket) {
    // The first event before any connect(): say hello with a default identity, unless the runtime
    // connects within this turn of the event loop.
    if (!S.autoConnect) {
      S.autoConnect = setImmediate(() => {
        if (!S.socket && S.reporting) {
          S.identity = defaultIdentity();
          open(S.identity);
        }
      });
      S.autoConnect.unref();
    }
    return;
  }
  if (!S.flushTimer) {
    S.flushTimer = setTimeout(() => {
      S.flushTimer = undefined;
      send();
    }, FLUSH_INTERVAL_MS);
    S.flushTimer.unref();
  }
}

function open(who: Identity): void {
  if (S.autoConnect) clearImmediate(S.autoConnect);
  S.autoConnect = undefined;
  const s = createConnection(hubAddress!);
  S.socket = s;
  // The control channel never keeps a program alive once the hello is answered (see `finish`).
  s.on('error', stop);
  s.on('close', stop);
  // Ref'd only until the welcome (or its timeout): `await connect()` must not let the program end early.
  S.welcomed = new Promise<void>((resolve) => {
    // The welcome's content does not matter, only that one whole frame of it came.
    const welcome = new FrameSplitter(
      MAX_FRAME_BYTES,
      () => finish(),
      () => finish(),
    );
    const timer = setTimeout(() => finish(), WELCOME_TIMEOUT_MS);
    const finish = (): void => {
      welcome.stop();
      s.unref();
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer): void => welcome.push(chunk);
    s.on('data', onData);
    s.on('close', finish);
  });
  const hello: Hello = {
    t: 'hello',
    v: PROTOCOL_VERSION,
    token: hubToken!,
    pid: process.pid,
    ppid: process.ppid,
    threadId: currentThreadId,
    ...who,
    runtimeVersion: '0.1.0',
  };
  write(hello);
  if (!S.exitHooked && isMainThread) {
    S.exitHooked = true;
    // A last synchronous attempt: a Unix socket write is tried at once by libuv, so this usually lands.
    atExit(() => send());
  }
  if (S.pending.length > 0 || S.queues.size > 0 || S.pipes.size > 0) send();
}

function stop(): void {
  // The hub went away (or never was): the program carries on, reporting nothing from now on.
  S.reporting = false;
  S.pending = [];
  S.queues = new Map();
  S.pipes = new Map();
  if (S.flushTimer) clearTimeout(S.flushTimer);
  S.flushTimer = undefined;
  if (S.stallTimer) clearTimeout(S.stallTimer);
  S.stallTimer = undefined;
  if (S.sendSoon) clearImmediate(S.sendSoon);
  S.sendSoon = undefined;
  const s = S.socket;
  if (s && !s.destroyed) s.destroy();
}

function send(): void {
  if (!S.socket || !S.reporting) return;
  for (const hook of S.beforeSend) {
    try {
      hook();
    } catch {
      // a failing counter loses its own sums, nothing else
    }
  }
  if (S.flushTimer) clearTimeout(S.flushTimer);
  S.flushTimer = undefined;
  if (S.pending.length === 0 && S.queues.size === 0 && S.pipes.size === 0 && S.dropped === 0) return;
  const events = S.pending;
  S.pending = [];
  for (const q of S.queues.values()) {
    if (S.inline) pushContext(events, S.mergedContext?.get(q));
    events.push(q);
  }
  for (const p of S.pipes.values()) {
    if (S.inline) pushContext(events, S.mergedContext?.get(p));
    events.push(p);
  }
  S.queues = new Map();
  S.pipes = new Map();
  if (S.socket.writableLength > MAX_UNSENT_BYTES) {
    drop(events.length);
    return;
  }
  if (S.dropped > 0) {
    events.push({ t: 'dropped', ts: Date.now(), count: S.dropped });
    S.dropped = 0;
  }
  writeBatch(events);
}

function writeBatch(events: RuntimeEvent[]): void {
  const body = Buffer.from(JSON.stringify({ t: 'events', events }), 'utf8');
  if (body.length + FRAME_HEADER_BYTES <= MAX_FRAME_BYTES) {
    writeBody(body);
    return;
  }
  if (events.length === 1) {
    drop(1); // One event bigger than a frame: it cannot be sent, only counted.
    return;
  }
  const half = events.length >> 1;
  writeBatch(events.slice(0, half));
  writeBatch(events.slice(half));
}

function write(frame: object): void {
  writeBody(Buffer.from(JSON.stringify(frame), 'utf8'));
}

function writeBody(body: Buffer): void {
  const s = S.socket!;
  s.write(lengthPrefixed(body));
  if (s.writableLength > 0 && !S.stallTimer) watchStall(s, flushed(s));
}

/**
 * An unfinished write keeps the event loop alive even on an unref'd socket, so a hub that stops
 * reading would keep the program from ending: unless bytes move within STALL_MS, stop reporting.
 * ('drain' is no signal: it only follows a write() that returned false.)
 */
/** Bytes the OS has taken (bytesWritten counts queued bytes too). */
function flushed(s: Socket): number {
  return s.bytesWritten - s.writableLength;
}

function watchStall(s: Socket, written: number): void {
  S.stallTimer = setTimeout(() => {
    S.stallTimer = undefined;
    if (s !== S.socket || s.destroyed || s.writableLength === 0) return;
    // Still connecting (a program that keeps its event loop busy from its first line): nothing is stalled
    // yet; a hub that never answers closes the connection itself (after AUTH_TIMEOUT_MS).
    if (s.connecting) return watchStall(s, written);
    const now = flushed(s);
    if (now > written) watchStall(s, now);
    else stop();
  }, STALL_MS);
  S.stallTimer.unref();
}

function mergeQueue(event: QueueActivity): void {
  const held = S.queues.get(event.id);
  if (!held) {
    S.queues.set(event.id, firstQueue(event));
    return;
  }
  mergeQueueInto(held, event);
}

function firstQueue(event: QueueActivity): QueueActivity {
  return { ...event, putIds: event.putIds?.slice(0, MAX_IDS_PER_FLUSH), getIds: event.getIds?.slice(0, MAX_IDS_PER_FLUSH) };
}

function mergeQueueInto(held: QueueActivity, event: QueueActivity): void {
  held.ts = event.ts;
  held.puts += event.puts;
  held.gets += event.gets;
  held.depth = event.depth;
  held.putIds = appendCapped(held.putIds, event.putIds);
  held.getIds = appendCapped(held.getIds, event.getIds);
}

function mergePipe(event: PipeActivity): void {
  const held = S.pipes.get(event.id);
  if (!held) {
    S.pipes.set(event.id, firstPipe(event));
    return;
  }
  mergePipeInto(held, event);
}

function firstPipe(event: PipeActivity): PipeActivity {
  return { ...event, sendIds: event.sendIds?.slice(0, MAX_IDS_PER_FLUSH), recvIds: event.recvIds?.slice(0, MAX_IDS_PER_FLUSH) };
}

function mergePipeInto(held: PipeActivity, event: PipeActivity): void {
  held.ts = event.ts;
  held.sent += event.sent;
  held.received += event.received;
  held.bytesSent += event.bytesSent;
  held.bytesReceived += event.bytesReceived;
  if (event.peer !== undefined) held.peer = event.peer;
  if (event.previews?.length) held.previews = [...(held.previews ?? []), ...event.previews].slice(-MAX_PREVIEWS);
  held.sendIds = appendCapped(held.sendIds, event.sendIds);
  held.recvIds = appendCapped(held.recvIds, event.recvIds);
}

function appendCapped(held: string[] | undefined, more: string[] | undefined): string[] | undefined {
  if (!more || more.length === 0) return held;
  if (!held) return more.slice(0, MAX_IDS_PER_FLUSH);
  for (const id of more) {
    if (held.length >= MAX_IDS_PER_FLUSH) break;
    held.push(id);
  }
  return held;
}

function previewOf(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return depth === 0 ? JSON.stringify(value.length > MAX_PREVIEW_CHARS ? value.slice(0, MAX_PREVIEW_CHARS) : value) : JSON.stringify(value.slice(0, 40));
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'Symbol()';
    case 'function':
      return '[Function]';
  }
  if (value === null) return 'null';
  if (depth >= 2) return Array.isArray(value) ? '[…]' : '{…}';
  if (ArrayBuffer.isView(value)) return `${Object.prototype.toString.call(value).slice(8, -1)}(${(value as ArrayBufferView).byteLength} bytes)`;
  if (Array.isArray(value)) {
    const items = value.slice(0, 8).map((v) => previewOf(v, depth + 1));
    return `[${items.join(', ')}${value.length > 8 ? `, …${value.length - 8} more` : ''}]`;
  }
  const proto = Object.getPrototypeOf(value) as { constructor?: unknown } | null;
  if (proto !== Object.prototype && proto !== null) {
    // Only the own data properties are read; a class instance is named by its tag, never by running its code.
    const tag = Object.prototype.toString.call(value).slice(8, -1);
    return tag === 'Object' ? '{…}' : `[${tag}]`;
  }
  const parts: string[] = [];
  for (const key of Object.keys(value as object).slice(0, 8)) {
    const d = Object.getOwnPropertyDescriptor(value, key);
    parts.push(`${key}: ${d && 'value' in d ? previewOf(d.value, depth + 1) : '[Getter]'}`);
  }
  return `{${parts.join(', ')}}`;
}
