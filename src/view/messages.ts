// Typed messages between the extension host and the webview, one definition for both sides.
// No Node or vscode imports: the webview bundle imports this file.
import type { ClusterNode, Deadlock, ManagerNode, PipeNode, PoolNode, ProcessNode, ProgramSnapshot, QueueNode, SyncNode } from '../../hub/snapshot';

/** The keyed collections of a snapshot, by the type of their items. */
export interface SnapshotCollections {
  processes: ProcessNode;
  queues: QueueNode;
  pipes: PipeNode;
  syncs: SyncNode;
  pools: PoolNode;
  clusters: ClusterNode;
  managers: ManagerNode;
}
export type CollectionName = keyof SnapshotCollections;
export const COLLECTION_NAMES: readonly CollectionName[] = ['processes', 'queues', 'pipes', 'syncs', 'pools', 'clusters', 'managers'];

/** What changed between two snapshots: whole items upserted or removed by key (`key` for processes, `id` otherwise). */
export interface SnapshotDelta {
  /** The version this delta applies to; a view holding another version asks for a full snapshot. */
  from: number;
  to: number;
  upsert: { [K in CollectionName]?: Array<SnapshotCollections[K]> };
  remove: { [K in CollectionName]?: string[] };
  /** Replaced whole when any cycle changed. */
  deadlocks?: Deadlock[];
  singleProcess?: boolean;
  rejectedConnections?: number;
  droppedEvents?: number;
}

export type HostToWebview =
  /** A full picture (on show, on resync, on a new session); `null` when no Forkscope session runs. `now` is the host's clock. */
  { type: 'snapshot'; snapshot: ProgramSnapshot | null; sessionName?: string; now?: number } | { type: 'delta'; delta: SnapshotDelta; now?: number };

export type ProcessAction = 'pause' | 'continue' | 'stop';

export type WebviewToHost =
  /** The view is up (or lost track of versions): send a full snapshot. */
  | { type: 'ready' }
  | { type: 'launchActiveFile' }
  | { type: 'toggleSingleProcess' }
  | { type: 'pauseAll' }
  | { type: 'exportTrace' }
  | { type: 'revealProcess'; key: string }
  | { type: 'processAction'; key: string; action: ProcessAction }
  /** Attach the debugger to a remote worker of a cluster in the snapshot (through the relay its worker opens outward). */
  | { type: 'debugRemoteWorker'; cluster: string; worker: string }
  /** Open a source location the program reported (the host only opens locations present in the snapshot). */
  | { type: 'openSource'; file: string; line: number; column: number };

type Schema = Record<string, (v: unknown) => boolean>;

const isProcessKey = (v: unknown): boolean => typeof v === 'string' && /^\d{1,10}(\/\d{1,10})?$/.test(v);
const isPositiveInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 10_000_000;
const isPath = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && v.length <= 4096 && !v.includes('\0');

/** Every message type the host accepts, with the exact set of fields each carries and their checks. */
const WEBVIEW_MESSAGE_SCHEMAS: Readonly<Record<WebviewToHost['type'], Schema>> = {
  ready: {},
  launchActiveFile: {},
  toggleSingleProcess: {},
  pauseAll: {},
  exportTrace: {},
  revealProcess: { key: isProcessKey },
  processAction: { key: isProcessKey, action: (v) => v === 'pause' || v === 'continue' || v === 'stop' },
  openSource: { file: isPath, line: isPositiveInt, column: isPositiveInt },
  debugRemoteWorker: {
    cluster: (v) => typeof v === 'string' && v.length > 0 && v.length <= 512,
    worker: (v) => typeof v === 'string' && /^[\w.@:-]{1,256}$/.test(v),
  },
};

/** The allowlist and schema check every message from the webview passes before the host acts on it. */
export function isWebviewToHost(value: unknown): value is WebviewToHost {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return false;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(WEBVIEW_MESSAGE_SCHEMAS, type)) return false;
  const schema = WEBVIEW_MESSAGE_SCHEMAS[type as WebviewToHost['type']];
  const keys = Object.keys(value);
  if (keys.length !== Object.keys(schema).length + 1) return false;
  for (const key of keys) {
    if (key === 'type') continue;
    const check = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (!check?.((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}
