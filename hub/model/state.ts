// The program model's state, shared by the reducers of each kind (processes.ts, queues.ts, pipes.ts, syncs.ts,
// pools.ts, managers.ts, clusters.ts); programModel.ts owns one and routes events to them.
// Pure data and helpers: no I/O, no clock, no Node or vscode imports.
import type { ObjectCreated, ObjectKind, ProcessKey, SourceLocation } from '../../runtime/src/protocol';
import type { ClusterNode, ProcessNode, QueueNode, SyncNode } from '../snapshot';
import type { ManagerRecord } from './managers';
import type { PipeRecord } from './pipes';
import type { PoolRecord } from './pools';

/** Depth and rate samples closer together than this are merged. */
export const SAMPLE_MS = 100;

export interface ModelState {
  /** Grows with every change: see `touch()`. */
  version: number;
  /** The newest event time seen. */
  now: number;
  /** A wait, a hold or an exit changed: deadlocks must be looked for again. */
  graphDirty: boolean;
  processes: Map<ProcessKey, ProcessNode>;
  /** Processes that said hello: a process that never does (the preload cannot reach it) is followed by the sampler. */
  greeted: Set<ProcessKey>;
  /** Silent processes the sampler has seen alive: gone from a later sample, they have exited. */
  sampledAlive: Set<ProcessKey>;
  objects: Map<string, ObjectCreated>;
  /** Which process created (and so keeps the items of) each object: only its depth reports are exact. */
  owners: Map<string, ProcessKey>;
  queues: Map<string, QueueNode>;
  pipes: Map<string, PipeRecord>;
  syncs: Map<string, SyncNode>;
  pools: Map<string, PoolRecord>;
  clusters: Map<string, ClusterNode>;
  managers: Map<string, ManagerRecord>;
}

export function newModelState(): ModelState {
  return {
    version: 0,
    now: 0,
    graphDirty: false,
    processes: new Map(),
    greeted: new Set(),
    sampledAlive: new Set(),
    objects: new Map(),
    owners: new Map(),
    queues: new Map(),
    pipes: new Map(),
    syncs: new Map(),
    pools: new Map(),
    clusters: new Map(),
    managers: new Map(),
  };
}

export function touch(m: ModelState): void {
  m.version++;
}

/** The kind, label and site an object was created with, or `id` and `kind` when its creation was not seen. */
export function labelOf(m: ModelState, id: string, kind: ObjectKind): { kind: ObjectKind; label: string; site?: SourceLocation } {
  const created = m.objects.get(id);
  if (!created) return { kind, label: id };
  return created.site ? { kind: created.kind, label: created.label ?? id, site: created.site } : { kind: created.kind, label: created.label ?? id };
}
