// findDeadlocks() alone, as the pure function it is: a three-process lock cycle, the same graph without a cycle, an
// RLock re-entered by its owner, and a queue starved by producers that all exited.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findDeadlocks, type WaitState } from '../../hub/deadlocks';
import type { ProcessNode, QueueNode, SyncNode } from '../../hub/snapshot';

const proc = (pid: number, state: ProcessNode['state'] = 'waiting', extra: Partial<ProcessNode> = {}): ProcessNode => ({
  key: String(pid),
  pid,
  threadId: 0,
  name: `Process-${pid}`,
  role: 'process',
  startMethod: 'spawn',
  state,
  startedAt: 0,
  ...extra,
});
const lock = (id: string, holder: number, waiter: number, kind: SyncNode['kind'] = 'Lock'): SyncNode => ({
  id,
  kind,
  label: id,
  holder: String(holder),
  waiters: [{ key: String(waiter), since: 0 }],
});
const state = (processes: ProcessNode[], syncs: SyncNode[] = [], queues: QueueNode[] = []): WaitState => ({
  processes: new Map(processes.map((p) => [p.key, p])),
  syncs: new Map(syncs.map((s) => [s.id, s])),
  queues: new Map(queues.map((q) => [q.id, q])),
});

describe('findDeadlocks', () => {
  it('finds a three-process lock cycle once, naming each process and lock', () => {
    const found = findDeadlocks(state([proc(1), proc(2), proc(3)], [lock('a', 1, 2), lock('b', 2, 3), lock('c', 3, 1)]));
    assert.equal(found.length, 1);
    assert.equal(found[0]!.kind, 'locks');
    assert.deepEqual(found[0]!.cycle.map((c) => c.waitsFor).sort(), ['a', 'b', 'c']);
    assert.match(found[0]!.message, /Process-2 \(pid 2\) waits for Lock a, held by Process-1 \(pid 1\)/);
  });

  it('finds nothing in a chain, when a holder has exited, or when an RLock owner re-enters', () => {
    assert.deepEqual(findDeadlocks(state([proc(1), proc(2), proc(3)], [lock('a', 1, 2), lock('b', 2, 3)])), []);
    assert.deepEqual(findDeadlocks(state([proc(1, 'exited'), proc(2)], [lock('a', 1, 2), lock('b', 2, 1)])), []);
    assert.deepEqual(findDeadlocks(state([proc(1)], [lock('r', 1, 1, 'RLock')])), []);
  });

  it('a Lock its holder waits on again is a cycle of one', () => {
    const found = findDeadlocks(state([proc(1)], [lock('l', 1, 1)]));
    assert.equal(found.length, 1);
  });

  it('finds a queue whose waiters can never be fed: empty, every other producer exited', () => {
    const q: QueueNode = { id: 'q', kind: 'Queue', label: 'tasks', maxsize: 0, depth: 0, puts: 3, gets: 3, history: [], producers: ['1'], consumers: ['2'] };
    const waiting = proc(2, 'waiting', { waitingOn: 'q' });
    const [d] = findDeadlocks(state([proc(1, 'exited'), waiting], [], [q]));
    assert.equal(d?.kind, 'queue');
    assert.match(d!.message, /Process-2 \(pid 2\) waits on Queue tasks, which is empty and whose every producer \(Process-1 \(pid 1\)\) has exited/);
    assert.deepEqual(findDeadlocks(state([proc(1, 'running'), waiting], [], [q])), [], 'a live producer may still put');
    assert.deepEqual(findDeadlocks(state([proc(1, 'exited'), waiting], [], [{ ...q, depth: 1 }])), [], 'an item is there to get');
  });
});
