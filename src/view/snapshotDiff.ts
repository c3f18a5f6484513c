// Computes the delta the host sends the webview between two program snapshots. Pure: no vscode, no Node.
// Items are compared by identity first (the hub's model keeps unchanged items), then by value.
import type { ProgramSnapshot } from '../../hub/snapshot';
import type { CollectionName, SnapshotCollections, SnapshotDelta } from './messages';
import { COLLECTION_NAMES } from './messages';

function keyOf(name: CollectionName, item: unknown): string {
  return name === 'processes' ? (item as { key: string }).key : (item as { id: string }).id;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** The delta that turns `prev` into `next`, or undefined when nothing the view shows changed. */
export function snapshotDiff(prev: ProgramSnapshot, next: ProgramSnapshot): SnapshotDelta | undefined {
  const delta: SnapshotDelta = { from: prev.version, to: next.version, upsert: {}, remove: {} };
  let changed = false;
  for (const name of COLLECTION_NAMES) {
    const before = new Map<string, unknown>();
    for (const item of (prev[name] ?? []) as ReadonlyArray<SnapshotCollections[CollectionName]>) before.set(keyOf(name, item), item);
    const upserts: unknown[] = [];
    const seen = new Set<string>();
    for (const item of (next[name] ?? []) as ReadonlyArray<SnapshotCollections[CollectionName]>) {
      const key = keyOf(name, item);
      seen.add(key);
      if (!before.has(key) || !sameValue(before.get(key), item)) upserts.push(item);
    }
    const removals = [...before.keys()].filter((key) => !seen.has(key));
    if (upserts.length) (delta.upsert as Record<string, unknown[]>)[name] = upserts;
    if (removals.length) delta.remove[name] = removals;
    changed ||= upserts.length > 0 || removals.length > 0;
  }
  if (!sameValue(prev.deadlocks, next.deadlocks)) {
    delta.deadlocks = next.deadlocks;
    changed = true;
  }
  for (const field of ['singleProcess', 'rejectedConnections', 'droppedEvents'] as const) {
    if (prev[field] !== next[field]) {
      (delta as unknown as Record<string, unknown>)[field] = next[field];
      changed = true;
    }
  }
  return changed || prev.version !== next.version ? delta : undefined;
}
