// Deadlock detection over the program model's state, as a pure function: lock cycles in the wait-for graph
// (a live waiter → the live holder of what it waits on) and queues whose waiters can never be fed (empty, and
// every producer other than the waiters has exited). No state of its own; the model calls it when a wait changed.
import type { ObjectKind, ProcessKey, SourceLocation } from '../runtime/src/protocol';
import type { Deadlock, ProcessNode, QueueNode, SyncNode } from './snapshot';

/** Kinds whose holder blocks its waiters: edges of the wait-for graph. */
const HELD_KINDS = new Set<ObjectKind>(['Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Condition']);

export interface WaitState {
  processes: ReadonlyMap<ProcessKey, ProcessNode>;
  syncs: ReadonlyMap<string, SyncNode>;
  queues: ReadonlyMap<string, QueueNode>;
}

type Edge = { to: ProcessKey; sync: SyncNode; site?: SourceLocation };
type Step = Edge & { from: ProcessKey };

/** Every deadlock in `state`, lock cycles first, each with a message that names processes, objects and sites. */
export function findDeadlocks(state: WaitState): Deadlock[] {
  return [...lockCycles(state), ...starvedQueues(state)];
}

function lockCycles(state: WaitState): Deadlock[] {
  const edges = new Map<ProcessKey, Edge[]>();
  for (const s of state.syncs.values()) {
    if (!HELD_KINDS.has(s.kind) || s.holder == null || s.waiters.length === 0) continue;
    const holder = state.processes.get(s.holder);
    if (!holder || holder.state === 'exited') continue;
    for (const w of s.waiters) {
      if (w.key === s.holder && s.kind !== 'Lock') continue; // an RLock's owner re-entering waits on nobody
      const list = edges.get(w.key) ?? [];
      list.push(w.site ? { to: s.holder, sync: s, site: w.site } : { to: s.holder, sync: s });
      edges.set(w.key, list);
    }
  }
  const cycles: Deadlock[] = [];
  const seen = new Set<string>();
  const path: Step[] = [];
  const onPath = new Set<ProcessKey>();
  const done = new Set<ProcessKey>();
  const visit = (key: ProcessKey): void => {
    onPath.add(key);
    for (const edge of edges.get(key) ?? []) {
      if (onPath.has(edge.to)) {
        const start = path.findIndex((p) => p.from === edge.to);
        const cycle = [...path.slice(start === -1 ? path.length : start), { from: key, ...edge }];
        const id = cycle
          .map((c) => `${c.from}>${c.sync.id}`)
          .sort()
          .join('|');
        if (!seen.has(id)) {
          seen.add(id);
          cycles.push(describeCycle(state, cycle));
        }
      } else if (!done.has(edge.to)) {
        path.push({ from: key, ...edge });
        visit(edge.to);
        path.pop();
      }
    }
    onPath.delete(key);
    done.add(key);
  };
  for (const key of [...edges.keys()].sort()) if (!done.has(key)) visit(key);
  return cycles;
}

function describeCycle(state: WaitState, cycle: Step[]): Deadlock {
  const entries = cycle.map((c) => {
    const entry: Deadlock['cycle'][number] = { process: c.from, waitsFor: c.sync.id, heldBy: c.to };
    if (c.site) entry.site = c.site;
    if (c.sync.acquiredAt) entry.heldAt = c.sync.acquiredAt;
    return entry;
  });
  const parts = cycle.map((c) => {
    const held = c.sync.acquiredAt ? ` (acquired at ${where(c.sync.acquiredAt)})` : '';
    return `${who(state, c.from)} waits for ${c.sync.kind} ${c.sync.label}${c.site ? ` at ${where(c.site)}` : ''}, held by ${who(state, c.to)}${held}`;
  });
  return { kind: 'locks', cycle: entries, message: `Deadlock: ${parts.join('; ')}.` };
}

function starvedQueues(state: WaitState): Deadlock[] {
  const found: Deadlock[] = [];
  const waitingOn = new Map<string, ProcessNode[]>();
  for (const p of state.processes.values()) {
    if (p.state !== 'waiting' || p.waitingOn === undefined || !state.queues.has(p.waitingOn)) continue;
    const list = waitingOn.get(p.waitingOn) ?? [];
    list.push(p);
    waitingOn.set(p.waitingOn, list);
  }
  for (const [id, waiters] of waitingOn) {
    const q = state.queues.get(id)!;
    if (q.depth !== 0 || q.producers.length === 0) continue;
    const others = q.producers.filter((k) => !waiters.some((w) => w.key === k));
    if (others.length === 0 || others.some((k) => state.processes.get(k)?.state !== 'exited')) continue;
    const last = others[others.length - 1]!;
    const cycle = waiters.map((w) => {
      const entry: Deadlock['cycle'][number] = { process: w.key, waitsFor: q.id, heldBy: last };
      if (w.waitSite) entry.site = w.waitSite;
      return entry;
    });
    const names = waiters.map((w) => `${who(state, w.key)}${w.waitSite ? ` at ${where(w.waitSite)}` : ''}`).join(', ');
    found.push({
      kind: 'queue',
      cycle,
      message: `Deadlock: ${names} waits on ${q.kind} ${q.label}, which is empty and whose every producer (${others.map((k) => who(state, k)).join(', ')}) has exited.`,
    });
  }
  return found;
}

function who(state: WaitState, key: ProcessKey): string {
  const node = state.processes.get(key);
  return node ? `${node.name} (pid ${node.pid}${node.threadId ? `, thread ${node.threadId}` : ''})` : `process ${key}`;
}

function where(site: SourceLocation): string {
  return `${site.file}:${site.line}:${site.column}`;
}
