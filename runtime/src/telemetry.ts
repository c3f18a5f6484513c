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

type Identity = Pick<Hello, 'name' | 'startMethod' | 'role'> & Partial<Pick<Hello, 'parent' | 'inspectorUrl' | 'entry'>>;

/** Batched events are sent this often; waits and state changes go at once. */
const FLUSH_INTERVAL_MS = 200;
/** Bytes the socket may hold unsent before new batches are dropped and counted. */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;
/** Events held between flushes before new ones are dropped and counted. */
const MAX_PENDING_EVENTS = 20_000;
/** Message ids kept per aggregated queue/pipe record between flushes (for trace flow arrows). */
const MAX_IDS_PER_FLUSH = 64;
const MAX_PREVIEWS = 3;
/** A hello the hub never answers does not hold up a child's start for long. */
const WELCOME_TIMEOUT_MS = 2_000;
/** A hub that has not taken a pending write for this long is considered gone. */
const STALL_MS = 2_000;

const hubAddress = process.env[ENV.hub];
const hubToken = process.env[ENV.token];
let reporting = Boolean(hubAddress && hubToken);

let socket: Socket | undefined;
let identity: Identity | undefined;
let welcomed: Promise<void> | undefined;
let autoConnect: NodeJS.Immediate | undefined;
let flushTimer: NodeJS.Timeout | undefined;
let pending: RuntimeEvent[] = [];
let queues = new Map<string, QueueActivity>();
let pipes = new Map<string, PipeActivity>();
let dropped = 0;
let droppedTotal = 0;
let exitHooked = false;
let stallTimer: NodeJS.Timeout | undefined;

/** True when this process reports to a hub (FORKSCOPE_HUB and FORKSCOPE_TOKEN are set and the hub is still there). */
export function isReporting(): boolean {
  return reporting;
}

/** This process's (or worker's) key, as the hub knows it. */
export function selfKey(): ProcessKey {
  return processKey(process.pid, currentThreadId);
}

/** Says hello once per process or worker; resolves when the hub has the hello (at once with no hub). */
export async function connect(who: Identity): Promise<void> {
  if (!reporting) return;
  if (socket) {
    // Said hello already (the preload speaks first): correct the identity instead.
    if (!identity || who.name !== identity.name || who.role !== identity.role || who.startMethod !== identity.startMethod || who.parent !== identity.parent || who.inspectorUrl !== identity.inspectorUrl || who.entry !== identity.entry) {
      identity = who;
      emitNow({ t: 'identity', ts: Date.now(), ...who });
    }
    return welcomed;
  }
  identity = who;
  open(who);
  return welcomed;
}

/** Queues an event for the next flush (a few times a second); queue and pipe activity is summed per object. */
export function emit(event: RuntimeEvent): void {
  if (!reporting) return;
  if (event.t === 'queue') mergeQueue(event);
  else if (event.t === 'pipe') mergePipe(event);
  else if (pending.length < MAX_PENDING_EVENTS) pending.push(event);
  else drop(1);
  schedule();
}

/** Sends an event at once: waits, state changes, lock operations, process start/exit. */
export function emitNow(event: RuntimeEvent): void {
  if (!reporting) return;
  if (pending.length < MAX_PENDING_EVENTS) pending.push(event);
  else drop(1);
  if (socket) send();
  else schedule();
}

let nextObject = 0;
/** A program-wide unique id for a new object; also reports the object when reporting. */
export function objectCreated(kind: ObjectKind, options: { label?: string; capacity?: number; site?: SourceLocation } = {}): string {
  const id = `${kind}-${process.pid}${currentThreadId === 0 ? '' : `.${currentThreadId}`}-${nextObject++}`;
  if (reporting) emitNow({ t: 'object', ts: Date.now(), id, kind, ...options });
  return id;
}

let nextMessage = 0;
/** A program-wide unique id for one message on a queue or pipe: the sender puts it in `putIds`/`sendIds`, the receiver in `getIds`/`recvIds`. */
export function messageId(): string {
  return `${process.pid}.${currentThreadId}.${nextMessage++}`;
}

/** A short, safe rendering of a value for previews: never runs user code (no getters, no toString), truncated. */
export function preview(value: unknown): string {
  const text = previewOf(value, 0);
  return text.length > MAX_PREVIEW_CHARS ? `${text.slice(0, MAX_PREVIEW_CHARS - 1)}…` : text;
}

const ownDir = typeof __filename === 'string' ? dirname(__filename) + sep : '\0';
const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

/** Where user code called into the runtime: the first stack frame outside forkscope (undefined when not reporting, to cost nothing). */
export function callSite(options: { always?: boolean } = {}): SourceLocation | undefined {
  if (!reporting && !options.always) return undefined;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const lines = stack.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const match = FRAME.exec(lines[i]!);
    if (!match) continue;
    let file = match[1]!;
    if (file.startsWith('node:') || file.startsWith('internal/') || file === 'native') continue;
    if (file.startsWith('file://')) {
      try {
        file = fileURLToPath(file);
      } catch {
        continue;
      }
    }
    if (file.startsWith(ownDir) || isRuntimeSource(file)) continue;
    return { file, line: Number(match[2]), column: Number(match[3]) };
  }
  return undefined;
}

/** Flushes what is batched; called before a process exits. Resolves when the bytes are handed to the OS (or given up on). */
export async function flush(): Promise<void> {
  if (!reporting) return;
  send();
  if (!socket || socket.destroyed || socket.writableLength === 0) return;
  const s: Socket = socket;
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
  if (!reporting) return;
  send();
  stop();
}

/** Events this process dropped because the hub did not keep up (for tests and benchmarks). */
export function droppedEvents(): number {
  return droppedTotal;
}

// ---- internals --------------------------------------------------------------------------------

function isRuntimeSource(file: string): boolean {
  // Running from sources (tests through tsx): the runtime's own files are not the user's call site.
  return file.includes(`${sep}runtime${sep}src${sep}`) || file.includes(`${sep}node_modules${sep}forkscope${sep}`);
}

function defaultIdentity(): Identity {
  return isMainThread
    ? { name: 'MainProcess', startMethod: 'spawn', role: 'main' }
    : { name: `Thread-${currentThreadId}`, startMethod: 'thread', role: 'external' };
}

function drop(count: number): void {
  dropped += count;
  droppedTotal += count;
}

function schedule(): void {
  if (!socket) {
    // The first event before any connect(): say hello with a default identity, unless the runtime
    // connects within this turn of the event loop.
    if (!autoConnect) {
      autoConnect = setImmediate(() => {
        if (!socket && reporting) {
          identity = defaultIdentity();
          open(identity);
        }
      });
      autoConnect.unref();
    }
    return;
  }
  if (!flushTimer) {
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      send();
    }, FLUSH_INTERVAL_MS);
    flushTimer.unref();
  }
}

function open(who: Identity): void {
  if (autoConnect) clearImmediate(autoConnect);
  autoConnect = undefined;
  const s = createConnection(hubAddress!);
  socket = s;
  // The control channel never keeps a program alive once the hello is answered (see `finish`).
  s.on('error', stop);
  s.on('close', stop);
  // Ref'd only until the welcome (or its timeout): `await connect()` must not let the program end early.
  welcomed = new Promise<void>((resolve) => {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(), WELCOME_TIMEOUT_MS);
    const finish = (): void => {
      s.unref();
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= FRAME_HEADER_BYTES && buffered.length >= FRAME_HEADER_BYTES + buffered.readUInt32BE(0)) finish();
    };
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
  if (!exitHooked && isMainThread) {
    exitHooked = true;
    // A last synchronous attempt: a Unix socket write is tried at once by libuv, so this usually lands.
    process.on('exit', () => send());
  }
  if (pending.length > 0 || queues.size > 0 || pipes.size > 0) send();
}

function stop(): void {
  // The hub went away (or never was): the program carries on, reporting nothing from now on.
  reporting = false;
  pending = [];
  queues = new Map();
  pipes = new Map();
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = undefined;
  if (stallTimer) clearTimeout(stallTimer);
  stallTimer = undefined;
  const s = socket;
  if (s && !s.destroyed) s.destroy();
}

function send(): void {
  if (!socket || !reporting) return;
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = undefined;
  if (pending.length === 0 && queues.size === 0 && pipes.size === 0 && dropped === 0) return;
  const events = pending;
  pending = [];
  for (const q of queues.values()) events.push(q);
  for (const p of pipes.values()) events.push(p);
  queues = new Map();
  pipes = new Map();
  if (socket.writableLength > MAX_UNSENT_BYTES) {
    drop(events.length);
    return;
  }
  if (dropped > 0) {
    events.push({ t: 'dropped', ts: Date.now(), count: dropped });
    dropped = 0;
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
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(body.length, 0);
  const s = socket!;
  s.write(Buffer.concat([header, body]));
  if (s.writableLength > 0 && !stallTimer) {
    // An unfinished write keeps the event loop alive even on an unref'd socket, so a hub that stops
    // reading would keep the program from ending: give it STALL_MS to drain, then stop reporting.
    stallTimer = setTimeout(stop, STALL_MS);
    stallTimer.unref();
    s.once('drain', () => {
      if (stallTimer) clearTimeout(stallTimer);
      stallTimer = undefined;
    });
  }
}

function mergeQueue(event: QueueActivity): void {
  const held = queues.get(event.id);
  if (!held) {
    queues.set(event.id, { ...event, putIds: event.putIds?.slice(0, MAX_IDS_PER_FLUSH), getIds: event.getIds?.slice(0, MAX_IDS_PER_FLUSH) });
    return;
  }
  held.ts = event.ts;
  held.puts += event.puts;
  held.gets += event.gets;
  held.depth = event.depth;
  held.putIds = appendCapped(held.putIds, event.putIds);
  held.getIds = appendCapped(held.getIds, event.getIds);
}

function mergePipe(event: PipeActivity): void {
  const held = pipes.get(event.id);
  if (!held) {
    pipes.set(event.id, { ...event, sendIds: event.sendIds?.slice(0, MAX_IDS_PER_FLUSH), recvIds: event.recvIds?.slice(0, MAX_IDS_PER_FLUSH) });
    return;
  }
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
