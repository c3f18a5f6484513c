// The program model's pools: workers, busy workers, queued and running tasks, outcomes and mean task time, from
// per-task events and from the counts a pool sends instead past its detail budget.
import type { ProcessKey, RuntimeEvent } from '../../runtime/src/protocol';
import type { PoolNode } from '../snapshot';
import { touch, type ModelState } from './state';

export interface PoolRecord extends PoolNode {
  tasks: Map<number, { start: number; worker?: ProcessKey }>;
  totalMs: number;
  finished: number;
  /** Busy workers as the last `pool` event (the counted tasks) said. */
  countedBusy: ProcessKey[];
}

function poolNode(m: ModelState, id: string): PoolRecord {
  let p = m.pools.get(id);
  if (!p) {
    p = {
      id,
      label: m.objects.get(id)?.label ?? id,
      workers: [],
      busy: [],
      queued: 0,
      running: 0,
      done: 0,
      failed: 0,
      meanTaskMs: 0,
      tasks: new Map(),
      totalMs: 0,
      finished: 0,
      countedBusy: [],
    };
    m.pools.set(id, p);
  }
  return p;
}

export function poolCreated(m: ModelState, id: string, label: string): void {
  const p = poolNode(m, id);
  p.label = label;
  touch(m);
}

/** A pool's worker is listed from its start, idle until a task runs on it. */
export function poolWorker(m: ModelState, pool: string, worker: ProcessKey): void {
  const p = poolNode(m, pool);
  if (p.workers.includes(worker)) return;
  p.workers.push(worker);
  touch(m);
}

export function reduceTask(m: ModelState, event: Extract<RuntimeEvent, { t: 'task' }>): void {
  const p = poolNode(m, event.pool);
  switch (event.op) {
    case 'queued':
      p.queued++;
      break;
    case 'started': {
      // A task started again after its worker died never stopped counting as running (the dead leave `busy` on exit).
      if (!p.tasks.has(event.task)) {
        if (p.queued > 0) p.queued--;
        p.running++;
      }
      p.tasks.set(event.task, event.worker === undefined ? { start: event.ts } : { start: event.ts, worker: event.worker });
      if (event.worker !== undefined) {
        if (!p.workers.includes(event.worker)) p.workers.push(event.worker);
        if (!p.busy.includes(event.worker)) p.busy.push(event.worker);
      }
      break;
    }
    case 'done':
    case 'failed': {
      const task = p.tasks.get(event.task);
      if (task) {
        p.tasks.delete(event.task);
        if (p.running > 0) p.running--;
        p.totalMs += Math.max(0, event.ts - task.start);
        p.finished++;
        p.meanTaskMs = p.totalMs / p.finished;
        const worker = task.worker ?? event.worker;
        if (worker !== undefined && !p.countedBusy.includes(worker) && ![...p.tasks.values()].some((t) => t.worker === worker))
          p.busy = p.busy.filter((w) => w !== worker);
      } else if (p.queued > 0) p.queued--;
      if (event.op === 'done') p.done++;
      else p.failed++;
      break;
    }
    case 'cancelled':
      if (p.queued > 0) p.queued--;
      break;
  }
  touch(m);
}

/** Counts of the tasks a pool did not report one by one: changes, added to what the `task` events say. */
export function reducePoolActivity(m: ModelState, event: Extract<RuntimeEvent, { t: 'pool' }>): void {
  const p = poolNode(m, event.pool);
  p.queued = Math.max(0, p.queued + event.queued + event.returned - event.started - event.dropped);
  p.running = Math.max(0, p.running + event.started - event.returned - event.finished);
  p.done += event.done;
  p.failed += event.failed;
  p.totalMs += event.runMs;
  p.finished += event.finished;
  if (p.finished > 0) p.meanTaskMs = p.totalMs / p.finished;
  p.countedBusy = event.busy.filter((w) => m.processes.get(w)?.state !== 'exited');
  for (const w of p.countedBusy) if (!p.workers.includes(w)) p.workers.push(w);
  const detailed = new Set<ProcessKey>();
  for (const t of p.tasks.values()) if (t.worker !== undefined) detailed.add(t.worker);
  p.busy = [...new Set([...p.countedBusy, ...detailed])];
  touch(m);
}

/** The worker `key` exited: it is busy no more. */
export function poolsProcessExited(m: ModelState, key: ProcessKey): void {
  for (const p of m.pools.values()) {
    if (p.busy.includes(key)) {
      p.busy = p.busy.filter((w) => w !== key);
      p.countedBusy = p.countedBusy.filter((w) => w !== key);
      touch(m);
    }
  }
}

export function copyPool(p: PoolRecord): PoolNode {
  return {
    id: p.id,
    label: p.label,
    workers: [...p.workers],
    busy: [...p.busy],
    queued: p.queued,
    running: p.running,
    done: p.done,
    failed: p.failed,
    meanTaskMs: p.meanTaskMs,
  };
}
