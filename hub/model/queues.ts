// The program model's queues: depth (the owner's exact count), puts, gets, producers, consumers and a minute of depth history.
import type { ObjectCreated, ObjectKind, ProcessKey, RuntimeEvent } from '../../runtime/src/protocol';
import type { QueueNode } from '../snapshot';
import { labelOf, SAMPLE_MS, touch, type ModelState } from './state';

/** Depth samples older than this (behind the newest event) are dropped. */
const HISTORY_MS = 60_000;
const MAX_HISTORY = 600;

export const QUEUE_KINDS = new Set<ObjectKind>(['Queue', 'SimpleQueue', 'JoinableQueue']);

export function queueNode(m: ModelState, id: string): QueueNode {
  let q = m.queues.get(id);
  if (!q) {
    const { kind, label, site } = labelOf(m, id, 'Queue');
    q = { id, kind, label, maxsize: m.objects.get(id)?.capacity ?? 0, depth: 0, puts: 0, gets: 0, history: [], producers: [], consumers: [] };
    if (site) q.site = site;
    m.queues.set(id, q);
  }
  return q;
}

export function queueCreated(m: ModelState, event: ObjectCreated, label: string): void {
  const q = queueNode(m, event.id);
  q.kind = event.kind;
  q.label = label;
  if (event.site) q.site = event.site;
  q.maxsize = event.capacity ?? 0;
  touch(m);
}

export function reduceQueue(m: ModelState, key: ProcessKey, event: Extract<RuntimeEvent, { t: 'queue' }>): void {
  const q = queueNode(m, event.id);
  q.puts += event.puts;
  q.gets += event.gets;
  if (event.puts > 0 && !q.producers.includes(key)) q.producers.push(key);
  if (event.gets > 0 && !q.consumers.includes(key)) q.consumers.push(key);
  // Producers and consumers report their own puts and gets; the depth they saw is a guess that may
  // arrive after the owner's exact one, so only the owner's counts (when the owner is known).
  const owner = m.owners.get(event.id);
  if (owner !== undefined && owner !== key) {
    m.graphDirty = true;
    return touch(m);
  }
  q.depth = event.depth;
  const h = q.history;
  const last = h[h.length - 1];
  // One sample per SAMPLE_MS: a flood of reports keeps the history's size (and cost) fixed.
  if (last && event.ts - last[0] < SAMPLE_MS) last[1] = event.depth;
  else {
    h.push([event.ts, event.depth]);
    if (h.length > MAX_HISTORY || h[0]![0] < m.now - HISTORY_MS) {
      let cut = 0;
      while (cut < h.length - 1 && (h.length - cut > MAX_HISTORY || h[cut]![0] < m.now - HISTORY_MS)) cut++;
      h.splice(0, cut);
    }
  }
  m.graphDirty = true;
  touch(m);
}

export function copyQueue(q: QueueNode): QueueNode {
  return { ...q, history: q.history.map(([ts, depth]) => [ts, depth] as [number, number]), producers: [...q.producers], consumers: [...q.consumers] };
}
