// The program model's remote clusters (BullMQ): each reading replaces the last, workers sorted by host.
import type { ProcessKey, RuntimeEvent } from '../../runtime/src/protocol';
import type { ClusterNode } from '../snapshot';
import { touch, type ModelState } from './state';

const MAX_CLUSTERS = 64;

/** A cluster's reading replaces the last one: every number in it is absolute. Workers grouped by host. */
export function reduceCluster(m: ModelState, key: ProcessKey, event: Extract<RuntimeEvent, { t: 'cluster' }>): void {
  if (!m.clusters.has(event.id) && m.clusters.size >= MAX_CLUSTERS) return;
  const { t: _t, ts, ...reading } = event;
  const workers = reading.workers.map((w) => ({ ...w })).sort((a, b) => a.host.localeCompare(b.host) || a.name.localeCompare(b.name));
  m.clusters.set(event.id, { ...reading, workers, reportedBy: key, updatedAt: ts });
  touch(m);
}

export function copyCluster(c: ClusterNode): ClusterNode {
  return { ...c, workers: c.workers.map((w) => ({ ...w })) };
}
