// The program model's output: what the webview, the CLI and the tests read. Pure data, no imports
// beyond the protocol's types, so the webview can import it as a type.
import type { ClusterActivity, ObjectKind, ProcessKey, ProcessRole, ProcessState, SourceLocation, StartMethod } from '../runtime/src/protocol';

export interface ProcessNode {
  key: ProcessKey;
  pid: number;
  threadId: number;
  parent?: ProcessKey;
  name: string;
  role: ProcessRole;
  startMethod: StartMethod;
  state: ProcessState;
  /** What it waits on, when `state` is `waiting`. */
  waitingOn?: string;
  waitingSince?: number;
  waitSite?: SourceLocation;
  inspectorUrl?: string;
  startedAt: number;
  exitedAt?: number;
  exitCode?: number | null;
  signal?: string | null;
  /** From ps-list, when sampled. */
  cpu?: number;
  memory?: number;
  /** Seen through the preload or a process listing, not the runtime. */
  external?: boolean;
}

export interface QueueNode {
  id: string;
  kind: ObjectKind;
  label: string;
  site?: SourceLocation;
  maxsize: number;
  depth: number;
  puts: number;
  gets: number;
  /** Depth samples over the last minute: [ts, depth]. */
  history: Array<[number, number]>;
  producers: ProcessKey[];
  consumers: ProcessKey[];
}

export interface PipeNode {
  id: string;
  kind: ObjectKind;
  label: string;
  ends: ProcessKey[];
  messages: number;
  bytes: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
  /** The last few previews, newest last. */
  recent: string[];
}

export interface Waiter {
  key: ProcessKey;
  since: number;
  site?: SourceLocation;
}

export interface SyncNode {
  id: string;
  kind: ObjectKind;
  label: string;
  site?: SourceLocation;
  holder?: ProcessKey | null;
  heldSince?: number;
  acquiredAt?: SourceLocation;
  waiters: Waiter[];
  /** The last holder died while holding it. */
  ownerDied?: boolean;
  /** Events: set or not. Barriers: broken or not. */
  isSet?: boolean;
}

export interface PoolNode {
  id: string;
  label: string;
  workers: ProcessKey[];
  busy: ProcessKey[];
  queued: number;
  running: number;
  done: number;
  failed: number;
  /** Mean task time in ms over finished tasks. */
  meanTaskMs: number;
}

/** A bullmq cluster as the latest `cluster` event of the process that uses it said (read from Redis); workers sorted by host. */
export interface ClusterNode extends Omit<ClusterActivity, 't' | 'ts'> {
  /** The caller process that reads it. */
  reportedBy: ProcessKey;
  updatedAt: number;
}

/** Calls of one method of one typeid on a manager. */
export interface ManagerMethodStats {
  typeid: string;
  method: string;
  calls: number;
  errors: number;
  meanMs: number;
}

/** One call as its caller reported it in detail (the first calls of each interval; the rest are counted only). */
export interface ManagerCallSample {
  caller: ProcessKey;
  typeid: string;
  method: string;
  /** When it began (ms since the epoch) and how long it took (ms). */
  ts: number;
  ms: number;
  outcome: 'ok' | 'error';
  error?: string;
}

/** A Manager's server and the calls made to it, counted by their callers. */
export interface ManagerNode {
  /** The manager's address, `host:port`. */
  id: string;
  label: string;
  /** The process that serves it, once it reported a call it handled. */
  server?: ProcessKey;
  calls: number;
  errors: number;
  /** Calls the server reported handling. */
  served: number;
  /** Mean call time as the callers measured it (ms). */
  meanMs: number;
  /** Most called first. */
  methods: ManagerMethodStats[];
  callers: Array<{ key: ProcessKey; calls: number }>;
  /** The last few detailed calls, newest last. */
  recent: ManagerCallSample[];
}

/** A cycle in the wait-for graph: each process waits on a lock the next one holds. */
export interface Deadlock {
  /** `locks`: a cycle of lock waits (the default when absent). `queue`: consumers wait on an empty queue whose every producer exited (`heldBy` is the last producer). */
  kind?: 'locks' | 'queue';
  /** `site`: where the process waits; `heldAt`: where the holder acquired what it holds. */
  cycle: Array<{ process: ProcessKey; waitsFor: string; heldBy: ProcessKey; site?: SourceLocation; heldAt?: SourceLocation }>;
  /** Human sentence naming processes, locks and source locations. */
  message: string;
}

export interface ProgramSnapshot {
  /** Increases with every change; deltas name the version they apply to. */
  version: number;
  processes: ProcessNode[];
  queues: QueueNode[];
  pipes: PipeNode[];
  syncs: SyncNode[];
  pools: PoolNode[];
  /** Remote workers per cluster (bullmq), absent in snapshots from before clusters were shown. */
  clusters?: ClusterNode[];
  /** Absent where no model made the snapshot (an empty one). */
  managers?: ManagerNode[];
  deadlocks: Deadlock[];
  /** Whether the program runs in the inline start method. */
  singleProcess: boolean;
  /** Bad frames and dropped events, for the status line. */
  rejectedConnections: number;
  droppedEvents: number;
}
