// The webview's state reducer: full snapshots and deltas from the host in, view state out.
// Pure (no DOM, no Node): unchanged items keep their identity so the renderer can skip them with `===`.
import type { ClusterNode, Deadlock, ManagerNode, PipeNode, PoolNode, ProcessNode, ProgramSnapshot, QueueNode, SyncNode } from '../hub/snapshot';
import type { CollectionName, HostToWebview, SnapshotCollections } from '../src/view/messages';
import { COLLECTION_NAMES } from '../src/view/messages';
export { formatBytes } from '../hub/units';

export interface ViewState {
  /** False until the first snapshot, and while no Forkscope session runs (the empty state). */
  hasProgram: boolean;
  sessionName?: string;
  version: number;
  /** Host clock at the last message, for "waiting for 3 s". */
  now: number;
  processes: ReadonlyMap<string, ProcessNode>;
  queues: ReadonlyMap<string, QueueNode>;
  pipes: ReadonlyMap<string, PipeNode>;
  syncs: ReadonlyMap<string, SyncNode>;
  pools: ReadonlyMap<string, PoolNode>;
  clusters: ReadonlyMap<string, ClusterNode>;
  managers: ReadonlyMap<string, ManagerNode>;
  deadlocks: readonly Deadlock[];
  singleProcess: boolean;
  rejectedConnections: number;
  droppedEvents: number;
  /** A delta did not follow the version held: the view must ask for a full snapshot. */
  needsResync: boolean;
}

type Maps = { [K in CollectionName]: ReadonlyMap<string, SnapshotCollections[K]> };

export const EMPTY_STATE: ViewState = {
  hasProgram: false,
  version: 0,
  now: 0,
  processes: new Map(),
  queues: new Map(),
  pipes: new Map(),
  syncs: new Map(),
  pools: new Map(),
  clusters: new Map(),
  managers: new Map(),
  deadlocks: [],
  singleProcess: false,
  rejectedConnections: 0,
  droppedEvents: 0,
  needsResync: false,
};

function keyOf(name: CollectionName, item: SnapshotCollections[CollectionName]): string {
  return name === 'processes' ? (item as ProcessNode).key : (item as { id: string }).id;
}

function toMap<K extends CollectionName>(name: K, items: ReadonlyArray<SnapshotCollections[K]> | undefined): Map<string, SnapshotCollections[K]> {
  const map = new Map<string, SnapshotCollections[K]>();
  for (const item of items ?? []) map.set(keyOf(name, item), item);
  return map;
}

function fromSnapshot(snapshot: ProgramSnapshot, sessionName: string | undefined, now: number): ViewState {
  return {
    hasProgram: true,
    sessionName,
    version: snapshot.version,
    now,
    processes: toMap('processes', snapshot.processes),
    queues: toMap('queues', snapshot.queues),
    pipes: toMap('pipes', snapshot.pipes),
    syncs: toMap('syncs', snapshot.syncs),
    pools: toMap('pools', snapshot.pools),
    clusters: toMap('clusters', snapshot.clusters),
    managers: toMap('managers', snapshot.managers),
    deadlocks: snapshot.deadlocks ?? [],
    singleProcess: snapshot.singleProcess === true,
    rejectedConnections: snapshot.rejectedConnections ?? 0,
    droppedEvents: snapshot.droppedEvents ?? 0,
    needsResync: false,
  };
}

/** Applies one host message; returns the same object when nothing changed. */
export function reduceView(state: ViewState, message: HostToWebview): ViewState {
  switch (message.type) {
    case 'snapshot':
      if (message.snapshot === null) return { ...EMPTY_STATE, sessionName: message.sessionName, now: message.now ?? state.now };
      return fromSnapshot(message.snapshot, message.sessionName, message.now ?? state.now);
    case 'delta': {
      const { delta } = message;
      if (!state.hasProgram || delta.from !== state.version) return state.needsResync ? state : { ...state, needsResync: true };
      const next: ViewState = { ...state, version: delta.to, now: message.now ?? state.now };
      const maps = next as unknown as Record<CollectionName, ReadonlyMap<string, unknown>>;
      for (const name of COLLECTION_NAMES) {
        const upserts = delta.upsert[name] as ReadonlyArray<SnapshotCollections[CollectionName]> | undefined;
        const removals = delta.remove[name];
        if (!upserts?.length && !removals?.length) continue;
        const map = new Map((state as unknown as Maps)[name] as ReadonlyMap<string, unknown>);
        for (const key of removals ?? []) map.delete(key);
        for (const item of upserts ?? []) map.set(keyOf(name, item), item);
        maps[name] = map;
      }
      if (delta.deadlocks) next.deadlocks = delta.deadlocks;
      if (delta.singleProcess !== undefined) next.singleProcess = delta.singleProcess;
      if (delta.rejectedConnections !== undefined) next.rejectedConnections = delta.rejectedConnections;
      if (delta.droppedEvents !== undefined) next.droppedEvents = delta.droppedEvents;
      return next;
    }
    default:
      return state;
  }
}

/** One visible row of the process tree, in depth-first order. */
export interface ProcessRow {
  node: ProcessNode;
  depth: number;
  hasChildren: boolean;
  expanded: boolean;
}

/**
 * Flattens the process tree: children under their parent, in start order; a process whose parent is
 * unknown is a root. `collapsed` holds the keys whose children are hidden.
 */
export function processRows(processes: ReadonlyMap<string, ProcessNode>, collapsed: ReadonlySet<string>): ProcessRow[] {
  const children = new Map<string | undefined, ProcessNode[]>();
  for (const node of processes.values()) {
    const parent = node.parent !== undefined && processes.has(node.parent) && node.parent !== node.key ? node.parent : undefined;
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(node);
  }
  for (const list of children.values()) list.sort((a, b) => a.startedAt - b.startedAt || a.pid - b.pid || a.threadId - b.threadId);
  const rows: ProcessRow[] = [];
  const seen = new Set<string>();
  const visit = (node: ProcessNode, depth: number): void => {
    if (seen.has(node.key)) return; // a parent cycle in bad data must not loop forever
    seen.add(node.key);
    const kids = children.get(node.key) ?? [];
    const expanded = !collapsed.has(node.key);
    rows.push({ node, depth, hasChildren: kids.length > 0, expanded });
    if (expanded) for (const kid of kids) visit(kid, depth + 1);
    else for (const kid of kids) markSeen(kid);
  };
  const markSeen = (node: ProcessNode): void => {
    if (seen.has(node.key)) return;
    seen.add(node.key);
    for (const kid of children.get(node.key) ?? []) markSeen(kid);
  };
  for (const root of children.get(undefined) ?? []) visit(root, 0);
  // Processes only reachable through a parent cycle still show, as roots.
  for (const node of processes.values()) if (!seen.has(node.key)) visit(node, 0);
  return rows;
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };

/** How a process ended, in words, or undefined while it runs. */
export function describeExit(node: ProcessNode): string | undefined {
  if (node.state !== 'exited') return undefined;
  if (node.signal) return `killed by ${node.signal}`;
  const code = node.exitCode;
  if (code === null || code === undefined) return 'exited';
  if (code < 0) return `killed by ${SIGNALS[-code] ?? `signal ${-code}`}`;
  return code === 0 ? 'exited with code 0' : `failed with exit code ${code}`;
}

/** A label for an object id the program reported: its label and kind when known. */
export function objectLabel(state: ViewState, id: string): string {
  const object = state.queues.get(id) ?? state.syncs.get(id) ?? state.pipes.get(id) ?? state.pools.get(id);
  if (!object) return id;
  const kind = 'kind' in object ? object.kind : 'Pool';
  return object.label && object.label !== kind ? `${kind} ${object.label}` : `${kind} ${id}`;
}

/** A process's state in words: "running", "waiting on Lock a for 2.1 s", "paused", "killed by SIGKILL". */
export function describeState(state: ViewState, node: ProcessNode): string {
  switch (node.state) {
    case 'exited':
      return describeExit(node) ?? 'exited';
    case 'waiting': {
      const on = node.waitingOn ? ` on ${objectLabel(state, node.waitingOn)}` : '';
      const since = node.waitingSince !== undefined ? ` for ${formatDuration(state.now - node.waitingSince)}` : '';
      return `waiting${on}${since}`;
    }
    case 'paused':
      return 'paused in the debugger';
    default:
      return node.state;
  }
}

/** A process's short display name: `Process-1 · pid 4711`, or the pid alone when the process is unknown. */
export function processLabel(state: ViewState, key: string): string {
  const node = state.processes.get(key);
  if (!node) return `pid ${key}`;
  return node.threadId ? `${node.name} · ${node.pid}/${node.threadId}` : `${node.name} · ${node.pid}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '0';
  return perSecond >= 100 ? String(Math.round(perSecond)) : perSecond >= 10 ? perSecond.toFixed(1) : perSecond.toFixed(2).replace(/\.?0+$/, '') || '0';
}
