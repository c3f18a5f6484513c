// The control-channel contract between the runtime (in the user's processes) and the hub.
// One definition, imported by both ends as `forkscope/protocol`. Data only: no Node imports here.

/** Bumped on any incompatible change; the runtime in a user's project and the extension can differ. */
export const PROTOCOL_VERSION = 1;

/** Environment variables that carry a session to the program and, by inheritance, to every child. */
export const ENV = {
  /** Address of the hub's private socket (a Unix socket path or a Windows named pipe). */
  hub: 'FORKSCOPE_HUB',
  /** Per-session secret (64 hex chars, 256 bits); sent in the hello, compared in constant time. */
  token: 'FORKSCOPE_TOKEN',
  /** `1`: every process and worker opens a loopback inspector and waits for the debugger. */
  debug: 'FORKSCOPE_DEBUG',
  /** `1`: the whole program runs in the `inline` start method (the view's "run as single process"). */
  singleProcess: 'FORKSCOPE_SINGLE_PROCESS',
  /** Set by the preload in each process for its children: the key of the process that started them (empty: none). */
  parent: 'FORKSCOPE_PARENT',
  /** Longest a process waits for its debugger before it runs without one, in ms (`0`: never wait). */
  debugWaitMs: 'FORKSCOPE_DEBUG_WAIT_MS',
  /** Set by the adapter on the program it launches, so the processes of one debug session can be found by it. */
  debugSession: 'FORKSCOPE_DEBUG_SESSION',
  /** Path of the shared-memory binding to load instead of the packaged one; `none` turns it off. */
  shmBinding: 'FORKSCOPE_SHM_BINDING',
  /** `1` once a process said that the binding is missing, so its children do not say it again. */
  shmWarned: 'FORKSCOPE_SHM_WARNED',
  /** The program's folder of shared-memory queue segments, made by its first process and inherited. */
  queueDir: 'FORKSCOPE_QUEUE_DIR',
  /** The program's folder of broker sockets, made by its first process and inherited. */
  ipcDir: 'FORKSCOPE_IPC_DIR',
  /** `1` in a worker thread the runtime starts (as opposed to one the program starts itself). */
  runtimeThread: 'FORKSCOPE_RUNTIME_THREAD',
  /** Folder of the TypeScript loader's compile cache (default: `forkscope-ts-<uid>` in the temp folder). */
  tsCache: 'FORKSCOPE_TS_CACHE',
  /** The secret a `forkscope worker` and `forkscope debug-worker` share to seal a remote debug session (16+ chars). */
  debugKey: 'FORKSCOPE_DEBUG_KEY',
} as const;

/** The debugger handshake between a waiting process (runtime/src/inspector.ts) and the adapter (src/debug). */
export const DEBUG_HANDSHAKE = {
  /** How long a process waits for its debugger when ENV.debugWaitMs is not set, in ms. */
  defaultWaitMs: 30_000,
  /**
   * `globalThis[Symbol.for(waitingFlag)]` is true while the process is parked in waitForDebugger(). A debugger
   * sends Runtime.runIfWaitingForDebugger once; sent before the wait began (the hello races the wait), it is lost.
   * So the adapter evaluates this flag over CDP and only attaches or releases once it reads true.
   */
  waitingFlag: 'forkscope.waitingForDebugger',
  /**
   * `globalThis[Symbol.for(dismissWatchdog)]()`, evaluated over CDP while the process is parked, ends its watchdog
   * thread: the adapter that found the process waiting takes over the promise that it is never parked forever (it
   * attaches a debugger or releases it, within its attach timeout), and a small shell outside the process keeps the
   * orphan checks. A thread still alive when js-debug attaches is listed as a `[worker N]` session of its own, one
   * per child, which also slowed attaching many children.
   */
  dismissWatchdog: 'forkscope.dismissWatchdog',
} as const;

/** What a Node can do with a program's TypeScript by itself: who compiles it is agreed on by the runtime's loader, `forkscope run` and the debug adapter. */
export interface NodeTypeScript {
  /**
   * Node runs TypeScript as written: it strips types (Node ≥ 22.18, 23.6, 24) and its V8 parses `using`
   * declarations. Node 22 strips types but cannot parse the `await using` our docs write, and stripping leaves it
   * as it is ("Unexpected identifier"), so there the runtime's loader (esbuild, which lowers it) compiles.
   */
  stripsTypes: boolean;
  /** `--experimental-transform-types` is a flag this Node knows (enums, parameter properties, namespaces). */
  transformTypes: boolean;
}

/** Asks the Node this runs in. Self-contained (globals only): the adapter runs its source in the program's Node. */
export function probeNodeTypeScript(): NodeTypeScript {
  let parsesUsing = false;
  try {
    new Function('async function f() { await using x = null; }');
    parsesUsing = true;
  } catch {}
  return {
    stripsTypes: Boolean((process.features as { typescript?: unknown }).typescript) && parsesUsing,
    transformTypes: process.allowedNodeEnvironmentFlags.has('--experimental-transform-types'),
  };
}

/** Frames are a 4-byte big-endian length, then that many bytes of UTF-8 JSON. */
export const FRAME_HEADER_BYTES = 4;
/** Largest frame the hub reads before the hello is accepted. */
export const MAX_HELLO_BYTES = 4 * 1024;
/** Largest frame after the hello; a bigger length closes the connection. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/**
 * A connection that has not sent a valid hello by then is closed. The hello leaves only when the process's event
 * loop turns, which its first synchronous imports can hold for seconds on a loaded machine (2 s was missed there
 * on Node 22 and 24); still short enough that a silent connection costs the hub little.
 */
export const AUTH_TIMEOUT_MS = 10_000;
/** Longest preview of a value sent over a pipe or queue, in characters. */
export const MAX_PREVIEW_CHARS = 120;

export type StartMethod = 'spawn' | 'thread' | 'forkserver' | 'inline';

/** What a process is to the program: shown in session names (`Process-3 · worker · pid 4711`). */
export type ProcessRole =
  | 'main' // the program's first process
  | 'process' // a `Process` started by the program
  | 'worker' // a pool or executor worker
  | 'manager' // a `Manager` server
  | 'forkserver' // the warm server that starts children
  | 'external'; // seen through the preload: not started by the runtime

/** Kinds of object the runtime reports; trace events and the view name them so. */
export const OBJECT_KINDS = [
  'Queue',
  'SimpleQueue',
  'JoinableQueue',
  'Pipe',
  'Lock',
  'RLock',
  'Semaphore',
  'BoundedSemaphore',
  'Event',
  'Condition',
  'Barrier',
  'Value',
  'Array',
  'Pool',
  'Manager',
  'Channel', // IPC seen by the preload: process.send, worker.postMessage, MessagePort
] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** A place in the user's source, for "click to open" and deadlock reports. Lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** Identity of one reporting process or worker thread: `pid` for a process, `pid/threadId` for a worker. */
export type ProcessKey = string;

export function processKey(pid: number, threadId = 0): ProcessKey {
  return threadId === 0 ? String(pid) : `${pid}/${threadId}`;
}

// ---- runtime → hub -------------------------------------------------------------------------

/** The first frame on every connection. */
export interface Hello {
  t: 'hello';
  v: number;
  token: string;
  pid: number;
  ppid: number;
  /** 0 for a process's main thread. */
  threadId: number;
  /** The key of the process (or thread) that started this one; absent for the main process. */
  parent?: ProcessKey;
  /** `currentProcess().name`: `MainProcess`, `Process-1`, `Process-2:1`, `ForkServerProcess-1`… */
  name: string;
  startMethod: StartMethod;
  role: ProcessRole;
  /** `ws://127.0.0.1:PORT/UUID` when debugging is on; the process waits for a debugger after saying it. */
  inspectorUrl?: string;
  /** Main module or entry file, for display. */
  entry?: string;
  /** The runtime's version, for "the runtime in your project is older than the extension" notices. */
  runtimeVersion?: string;
  /**
   * This connection only announces the process (the preload's synchronous hello before it waits for a
   * debugger); its close does not mean the process ended. The process's own connection follows.
   */
  announceOnly?: boolean;
}

/** `serving`: a Manager's server process, up and answering. */
export type ProcessState = 'starting' | 'running' | 'waiting' | 'idle' | 'paused' | 'exited' | 'serving';

/** A reference to an object some process waits on. */
export interface ObjectRef {
  id: string;
  kind: ObjectKind;
}

/** Declares an object once, before other events name it. `id` is unique for the whole program. */
export interface ObjectCreated {
  t: 'object';
  ts: number;
  id: string;
  kind: ObjectKind;
  /** A user-facing label: the variable name when known, else kind and creation site. */
  label?: string;
  site?: SourceLocation;
  /** Queues: maxsize (0 = unbounded). Semaphores: initial value. Barriers: parties. */
  capacity?: number;
}

/** A child this process started or saw end. The parent reports it, since a killed child cannot. */
export interface ChildStarted {
  t: 'child.start';
  ts: number;
  key: ProcessKey;
  pid: number;
  threadId: number;
  name: string;
  startMethod: StartMethod;
  role: ProcessRole;
  daemon?: boolean;
  /** The Pool or executor (its object id) a worker belongs to, so a pool lists its idle workers too. */
  pool?: string;
}

export interface ChildExited {
  t: 'child.exit';
  ts: number;
  key: ProcessKey;
  /** Python's exitcode: 0, 1 after an uncaught error, -N when killed by signal N. */
  exitCode: number | null;
  signal?: string | null;
}

/** Waits and state changes are sent at once; everything else is batched. */
export interface StateChanged {
  t: 'state';
  ts: number;
  state: ProcessState;
  /** What the process waits on, when `state` is `waiting`. */
  on?: ObjectRef;
  /** Where the wait was called from. */
  site?: SourceLocation;
}

/** Aggregated queue traffic since the last flush. */
export interface QueueActivity {
  t: 'queue';
  ts: number;
  id: string;
  puts: number;
  gets: number;
  /** Depth as this process last saw it. */
  depth: number;
  /** Message ids of the items, for trace flow arrows: sends in `putIds`, receipts in `getIds` (capped). */
  putIds?: string[];
  getIds?: string[];
}

/** Aggregated pipe or channel traffic since the last flush. */
export interface PipeActivity {
  t: 'pipe';
  ts: number;
  id: string;
  sent: number;
  received: number;
  bytesSent: number;
  bytesReceived: number;
  /** The other end's process, when known. */
  peer?: ProcessKey;
  /** Short, safe previews (no functions run, strings truncated) of the last few messages sent. */
  previews?: string[];
  sendIds?: string[];
  recvIds?: string[];
}

/** Locks, semaphores, conditions, events, barriers: every change goes at once. */
export interface SyncActivity {
  t: 'sync';
  ts: number;
  id: string;
  op: 'acquire' | 'wait' | 'release' | 'timeout' | 'set' | 'clear' | 'notify' | 'broken' | 'ownerDied';
  /** The process that holds it after this op (locks), if any. */
  holder?: ProcessKey | null;
  site?: SourceLocation;
}

export interface PoolTask {
  t: 'task';
  ts: number;
  pool: string;
  task: number;
  op: 'queued' | 'started' | 'done' | 'failed' | 'cancelled';
  /** The worker that runs it, from `started` on. */
  worker?: ProcessKey;
  /** Target function's name, for display. */
  fn?: string;
  error?: string;
}

/**
 * Aggregated pool task counts since the last flush, for the tasks a pool did not report one by one: a pool reports
 * its first few tasks of each interval as `task` events (the trace shows them) and only counts the rest, so a
 * stream of tiny tasks costs one event per flush. The numbers are changes, except `busy`; each task is counted in
 * exactly one of the two forms, so the sums stay exact.
 */
export interface PoolActivity {
  t: 'pool';
  ts: number;
  pool: string;
  /** Tasks that entered the queue. */
  queued: number;
  /** Tasks a worker took from the queue (again, after a `returned`). */
  started: number;
  /** Tasks a worker held when it died that went back to the queue. */
  returned: number;
  /** Tasks that left the queue without a worker: cancelled, timed out, aborted, or failed by a broken pool. */
  dropped: number;
  /** Tasks that ended on a worker, and the sum of their times from `started` (ms). */
  finished: number;
  runMs: number;
  /** Outcomes (a `dropped` task is failed unless cancelled). */
  done: number;
  failed: number;
  /** The workers holding at least one task as the event is sent (absolute, not a change). */
  busy: ProcessKey[];
}

/** A `console`/logger line with its process, for the trace and the CLI. */
export interface LogLine {
  t: 'log';
  ts: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  text: string;
}

/** How many events the runtime dropped because the socket was over budget. */
export interface Dropped {
  t: 'dropped';
  ts: number;
  count: number;
}

/**
 * The process corrects who it is after its hello: the preload speaks first (as `external`), then the
 * runtime's child bootstrap knows the real name, role and start method. Fields absent stay as they were.
 */
export interface IdentityChanged {
  t: 'identity';
  ts: number;
  name?: string;
  role?: ProcessRole;
  startMethod?: StartMethod;
  parent?: ProcessKey;
  inspectorUrl?: string;
  entry?: string;
}

/**
 * Single-process mode: the events after this one on the same connection are on behalf of the inline process
 * `key` (from its `child.start`), or of the connection's own process when `key` is absent.
 */
export interface ContextChanged {
  t: 'context';
  ts: number;
  key?: ProcessKey;
}

/** One Manager request as its caller or the manager's server saw it. */
export interface ManagerCall {
  /** Shared by the caller's and the server's report of the same call: the trace joins them into one arrow. */
  id: string;
  /** The proxy's typeid (`Queue`, `dict`, a registered name). */
  typeid: string;
  /** The proxy method called, or `create` (a new object), `getvalue` (a copy). */
  method: string;
  /** When it began (ms since the epoch) and how long it took, in ms (the caller: until the reply; the server: handling). */
  start: number;
  ms: number;
  outcome: 'ok' | 'error';
  /** `Name: message`, when `outcome` is `error`. */
  error?: string;
}

/** Calls only counted, per `typeid.method`. */
export interface ManagerCallCount {
  calls: number;
  errors: number;
  /** Sum of their durations, ms. */
  ms: number;
}

/**
 * Manager calls since the last flush, from a calling process (`side: 'call'`) or from the manager's server
 * (`side: 'serve'`). As PoolActivity: a caller details its first calls of each interval in `calls` and only
 * counts the rest in `counted`; each call is in exactly one of the two, so the sums stay exact. The server
 * details exactly the calls its caller detailed (the request carries the id), so each has both ends.
 */
export interface ManagerCalls {
  t: 'manager';
  ts: number;
  /** The manager's address, `host:port`. */
  manager: string;
  side: 'call' | 'serve';
  calls: ManagerCall[];
  counted?: Record<string, ManagerCallCount>;
}

/** What a `forkscope worker` of a bullmq cluster says of itself in Redis (`<prefix>:workers`), refreshed with its heartbeat. */
export interface WorkerAnnouncement {
  name: string;
  host: string;
  pid: number;
  /** Jobs it runs at once (`--concurrency`). */
  capacity: number;
  /** The program it serves: its package.json's name and version. */
  program: string;
  version: string;
  /** `prefix:queue`. */
  queue: string;
  startedAt: number;
  /** Its own counts, as of its last heartbeat: jobs in hand, and jobs ended since it started. */
  running?: number;
  done?: number;
  failed?: number;
}

/** One worker of a cluster as a caller sees it: its announcement, whether its heartbeat lives, and this caller's jobs that ended on it. */
export interface ClusterWorker extends WorkerAnnouncement {
  /** Its heartbeat key still lives (it expires some 10 s after the worker went silent or was killed). */
  alive: boolean;
  /** This caller's jobs that ended on it (exact: counted from each job's end). */
  jobsDone: number;
  jobsFailed: number;
}

/**
 * A bullmq cluster as the calling process reads it from Redis: the roll of workers and the queue's counts. Every
 * number is absolute (the latest reading), so a missed event loses nothing; sent when something changed.
 */
export interface ClusterActivity {
  t: 'cluster';
  ts: number;
  /** `redis-address/prefix:queue`: one cluster. */
  id: string;
  address: string;
  queue: string;
  workers: ClusterWorker[];
  /** BullMQ's job counts for the queue: waiting (with prioritized), active, delayed, completed and failed (those kept). */
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  /** Jobs put back to run again since this caller watched (a worker stopped renewing its lock: killed, hung). */
  retried: number;
  /** This caller's jobs: submitted, and ended (done or failed). */
  submitted: number;
  ended: number;
}

/**
 * One job of this caller's, for trace arrows from its submit here to its run on a worker. Capped per flush (the
 * counts in `cluster` stay exact); `done`/`failed` name the worker and when it started the job (its clock).
 */
export interface ClusterJob {
  t: 'job';
  ts: number;
  cluster: string;
  job: string;
  op: 'submitted' | 'done' | 'failed' | 'retried';
  fn?: string;
  /** `name@host` of the worker that ran it. */
  worker?: string;
  /** The worker's pid. */
  pid?: number;
  /** When the worker started it (ms since the epoch, the worker's clock). */
  startedAt?: number;
  error?: string;
}

export type RuntimeEvent =
  | IdentityChanged
  | ContextChanged
  | ManagerCalls
  | ObjectCreated
  | ChildStarted
  | ChildExited
  | StateChanged
  | QueueActivity
  | PipeActivity
  | SyncActivity
  | PoolTask
  | PoolActivity
  | ClusterActivity
  | ClusterJob
  | LogLine
  | Dropped;

/** After the hello, every frame is a batch of events from the connection's process. */
export interface EventBatch {
  t: 'events';
  events: RuntimeEvent[];
}

export type RuntimeFrame = Hello | EventBatch;

// ---- hub → runtime -------------------------------------------------------------------------

/** The hub's answer to a valid hello. */
export interface Welcome {
  t: 'welcome';
  v: number;
}

export type HubFrame = Welcome;
