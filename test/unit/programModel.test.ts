// The program model's reducer on recorded event streams: no processes, no sockets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RuntimeEvent } from '../../runtime/src/protocol';
import { ProgramModel } from '../../hub/programModel';
import { renderTree } from '../../hub/treeView';
import { hello } from './hello';

const site = (line: number) => ({ file: '/app/deadlock.ts', line, column: 5 });

function twoProcessDeadlock(): ProgramModel {
  const m = new ProgramModel();
  m.hello(hello(100, 'MainProcess', { role: 'main' }), 1);
  const events: Array<[string, RuntimeEvent]> = [
    ['100', { t: 'object', ts: 2, id: 'A', kind: 'Lock', label: 'lockA' }],
    ['100', { t: 'object', ts: 2, id: 'B', kind: 'Lock', label: 'lockB' }],
    ['100', { t: 'child.start', ts: 3, key: '101', pid: 101, threadId: 0, name: 'Process-1', startMethod: 'spawn', role: 'process' }],
    ['100', { t: 'child.start', ts: 3, key: '102', pid: 102, threadId: 0, name: 'Process-2', startMethod: 'spawn', role: 'process' }],
  ];
  for (const [k, e] of events) m.apply(k, e);
  m.hello(hello(101, 'Process-1', { ppid: 100 }), 4);
  m.hello(hello(102, 'Process-2', { ppid: 100 }), 4);
  // As the runtime reports: the lock's owner (the main process) reports ops with the holder's context
  // id (`pid/0`); each waiter reports its own wait with its call site.
  m.apply('101', { t: 'sync', ts: 5, id: 'A', op: 'acquire', holder: '101/0', site: site(10) });
  m.apply('100', { t: 'sync', ts: 5, id: 'B', op: 'acquire', holder: '102/0' });
  m.apply('102', { t: 'state', ts: 5, state: 'running' });
  m.hello(hello(102, 'Process-2', { ppid: 100 }), 5);
  m.apply('101', { t: 'state', ts: 6, state: 'waiting', on: { id: 'B', kind: 'Lock' }, site: site(11) });
  m.apply('100', { t: 'sync', ts: 6, id: 'B', op: 'wait', holder: '102/0' });
  m.apply('102', { t: 'state', ts: 6, state: 'waiting', on: { id: 'A', kind: 'Lock' }, site: site(21) });
  m.apply('100', { t: 'sync', ts: 6, id: 'A', op: 'wait', holder: '101/0' });
  return m;
}

describe('ProgramModel', () => {
  it('builds the process tree from hellos and child.start, whatever arrives first', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main', ppid: 50 }), 1);
    m.hello(hello(101, 'node', { ppid: 100, role: 'external' }), 2); // the preload speaks before the parent reports
    m.apply('100', { t: 'child.start', ts: 3, key: '101', pid: 101, threadId: 0, name: 'Process-1', startMethod: 'spawn', role: 'process' });
    m.hello(hello(100, 'MainProcess', { threadId: 3, role: 'worker', startMethod: 'thread', name: 'Worker-1' }), 4);
    const s = m.snapshot();
    const byKey = new Map(s.processes.map((p) => [p.key, p]));
    assert.equal(byKey.get('100')?.parent, undefined);
    assert.equal(byKey.get('101')?.parent, '100');
    assert.equal(byKey.get('101')?.name, 'Process-1');
    assert.equal(byKey.get('101')?.external, undefined);
    assert.equal(byKey.get('100/3')?.parent, '100');
  });

  it('finds a two-lock deadlock with both source locations', () => {
    const s = twoProcessDeadlock().snapshot();
    assert.equal(s.deadlocks.length, 1);
    const [d] = s.deadlocks;
    assert.equal(d!.kind, 'locks');
    assert.deepEqual(d!.cycle.map((c) => [c.process, c.waitsFor, c.heldBy]).sort(), [
      ['101', 'B', '102'],
      ['102', 'A', '101'],
    ]);
    assert.deepEqual(d!.cycle.map((c) => c.site?.line).sort(), [11, 21]);
    // Where 101 took A is known (its own report); 102 took B without waiting, reported by the lock's owner.
    assert.deepEqual(d!.cycle.map((c) => [c.process, c.heldAt?.line]).sort(), [
      ['101', undefined],
      ['102', 10],
    ]);
    assert.match(d!.message, /Process-1 \(pid 101\) waits for Lock lockB at \/app\/deadlock\.ts:11:5, held by Process-2/);
    assert.match(d!.message, /deadlock\.ts:21:5/);
    const lockA = s.syncs.find((x) => x.id === 'A')!;
    assert.equal(lockA.holder, '101');
    assert.deepEqual(
      lockA.waiters.map((w) => w.key),
      ['102'],
    );
    assert.equal(lockA.acquiredAt?.line, 10);
  });

  it('clears the deadlock when a wait times out, and marks a kill -9 as dead with its signal', () => {
    const m = twoProcessDeadlock();
    assert.equal(m.snapshot().deadlocks.length, 1);
    m.apply('100', { t: 'sync', ts: 7, id: 'A', op: 'timeout', holder: '101/0' });
    m.apply('102', { t: 'state', ts: 7, state: 'running' });
    assert.equal(m.snapshot().deadlocks.length, 0);
    m.apply('100', { t: 'child.exit', ts: 8, key: '101', exitCode: -9, signal: 'SIGKILL' });
    const s = m.snapshot();
    const p = s.processes.find((x) => x.key === '101')!;
    assert.equal(p.state, 'exited');
    assert.equal(p.signal, 'SIGKILL');
    assert.equal(p.exitCode, -9);
    assert.equal(p.waitingOn, undefined);
    const lockA = s.syncs.find((x) => x.id === 'A')!;
    assert.equal(lockA.holder, '101');
    assert.equal(lockA.ownerDied, true);
    assert.deepEqual(s.syncs.find((x) => x.id === 'B')!.waiters, []);
  });

  it('reports a queue nobody will fill once every producer exited', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 1);
    m.hello(hello(101, 'Producer', { ppid: 100 }), 1);
    m.apply('100', { t: 'object', ts: 1, id: 'Q', kind: 'Queue', label: 'results', capacity: 0 });
    // A producer counts its own puts; the depth it saw is a guess that may arrive late, so only the owner's counts.
    m.apply('100', { t: 'queue', ts: 200, id: 'Q', puts: 0, gets: 0, depth: 3 });
    m.apply('101', { t: 'queue', ts: 210, id: 'Q', puts: 3, gets: 0, depth: 1 });
    m.apply('100', { t: 'queue', ts: 250, id: 'Q', puts: 0, gets: 1, depth: 2 }); // merged into the sample before
    m.apply('100', { t: 'queue', ts: 400, id: 'Q', puts: 0, gets: 2, depth: 0 });
    m.apply('100', { t: 'state', ts: 500, state: 'waiting', on: { id: 'Q', kind: 'Queue' }, site: site(30) });
    assert.equal(m.snapshot().deadlocks.length, 0, 'the producer is still alive');
    m.apply('100', { t: 'child.exit', ts: 600, key: '101', exitCode: 0 });
    const [d] = m.snapshot().deadlocks;
    assert.equal(d?.kind, 'queue');
    assert.equal(d?.cycle[0]?.process, '100');
    assert.equal(d?.cycle[0]?.site?.line, 30);
    assert.match(d!.message, /Queue results, which is empty and whose every producer \(Producer \(pid 101\)\) has exited/);
    const q = m.snapshot().queues[0]!;
    assert.deepEqual([q.puts, q.gets, q.depth, q.maxsize], [3, 3, 0, 0]);
    assert.deepEqual(q.history, [
      [200, 2],
      [400, 0],
    ]);
    assert.deepEqual([q.producers, q.consumers], [['101'], ['100']]);
  });

  it("takes a queue's depth from its owner only: a producer's late report does not leave a stale depth", () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 1);
    m.hello(hello(101, 'Producer', { ppid: 100 }), 1);
    m.hello(hello(102, 'Consumer', { ppid: 100 }), 1);
    m.apply('100', { t: 'object', ts: 1, id: 'Q', kind: 'Queue', label: 'jobs', capacity: 0 });
    m.apply('100', { t: 'queue', ts: 300, id: 'Q', puts: 0, gets: 0, depth: 1 });
    m.apply('100', { t: 'queue', ts: 301, id: 'Q', puts: 0, gets: 0, depth: 0 });
    m.apply('102', { t: 'queue', ts: 301, id: 'Q', puts: 0, gets: 1, depth: 0 });
    m.apply('101', { t: 'queue', ts: 300, id: 'Q', puts: 1, gets: 0, depth: 1 }); // the producer's batch lands last
    const q = m.snapshot().queues[0]!;
    assert.deepEqual([q.puts, q.gets, q.depth], [1, 1, 0]);
    assert.deepEqual([q.producers, q.consumers], [['101'], ['102']]);
  });

  it('counts pipe traffic once when both ends report, with rates and the last previews', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 0);
    m.hello(hello(101, 'Process-1', { ppid: 100 }), 0);
    for (let i = 1; i <= 10; i++) {
      m.apply('100', { t: 'pipe', ts: i * 100, id: 'P', sent: 10, received: 0, bytesSent: 1000, bytesReceived: 0, peer: '101', previews: [`"m${i}"`] });
      m.apply('101', { t: 'pipe', ts: i * 100, id: 'P', sent: 0, received: 10, bytesSent: 0, bytesReceived: 1000 });
    }
    const p = m.snapshot().pipes[0]!;
    assert.equal(p.messages, 100);
    assert.equal(p.bytes, 10_000);
    assert.deepEqual(p.ends.sort(), ['100', '101']);
    assert.deepEqual(p.recent, ['"m6"', '"m7"', '"m8"', '"m9"', '"m10"']);
    assert.equal(p.messagesPerSecond, 20); // 100 messages inside the 5 s window
  });

  it('follows pool tasks: queued, running, done, failed, busy workers, mean time', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 0);
    m.apply('100', { t: 'object', ts: 0, id: 'pool', kind: 'Pool', label: 'pool' });
    for (let i = 0; i < 3; i++) m.apply('100', { t: 'task', ts: 0, pool: 'pool', task: i, op: 'queued' });
    m.apply('100', { t: 'task', ts: 10, pool: 'pool', task: 0, op: 'started', worker: '101' });
    m.apply('100', { t: 'task', ts: 10, pool: 'pool', task: 1, op: 'started', worker: '102' });
    let p = m.snapshot().pools[0]!;
    assert.deepEqual([p.queued, p.running, p.busy.length, p.workers.length], [1, 2, 2, 2]);
    m.apply('100', { t: 'task', ts: 30, pool: 'pool', task: 0, op: 'done' });
    m.apply('100', { t: 'task', ts: 50, pool: 'pool', task: 1, op: 'failed', error: 'Error: boom' });
    p = m.snapshot().pools[0]!;
    assert.deepEqual([p.queued, p.running, p.done, p.failed, p.busy.length, p.meanTaskMs], [1, 0, 1, 1, 0, 30]);
  });

  it('adds counted pool tasks (pool events) to the ones reported one by one, exactly', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 0);
    m.apply('100', { t: 'object', ts: 0, id: 'pool', kind: 'Pool', label: 'pool' });
    const counts = { queued: 0, started: 0, returned: 0, dropped: 0, finished: 0, runMs: 0, done: 0, failed: 0 };
    // One detailed task (running on 101) beside 100 counted ones: 40 started, 2 of them handed back by a dying worker.
    m.apply('100', { t: 'task', ts: 0, pool: 'pool', task: 1, op: 'queued' });
    m.apply('100', { t: 'task', ts: 5, pool: 'pool', task: 1, op: 'started', worker: '101' });
    m.apply('100', { t: 'pool', ts: 10, pool: 'pool', ...counts, queued: 100, started: 40, returned: 2, finished: 30, runMs: 60, done: 30, busy: ['102'] });
    let p = m.snapshot().pools[0]!;
    assert.deepEqual([p.queued, p.running, p.done, p.failed, p.meanTaskMs], [62, 9, 30, 0, 2]);
    assert.deepEqual([...p.busy].sort(), ['101', '102']);
    // The detailed task ends: its worker is idle, the counted one still busy.
    m.apply('100', { t: 'task', ts: 7, pool: 'pool', task: 1, op: 'done' });
    p = m.snapshot().pools[0]!;
    assert.deepEqual(p.busy, ['102']);
    // The rest: 62 start, 2 are cancelled while queued (dropped, neither done nor failed), 1 fails on a worker.
    m.apply('100', { t: 'pool', ts: 20, pool: 'pool', ...counts, started: 60, dropped: 2, finished: 68, runMs: 136, done: 67, failed: 1, busy: [] });
    p = m.snapshot().pools[0]!;
    assert.deepEqual([p.queued, p.running, p.done, p.failed, p.busy], [0, 0, 98, 1, []]);
  });

  it('counts a task started again after its worker died once', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 0);
    m.apply('100', { t: 'task', ts: 0, pool: 'pool', task: 1, op: 'queued' });
    m.apply('100', { t: 'task', ts: 1, pool: 'pool', task: 1, op: 'started', worker: '101' });
    m.apply('100', { t: 'task', ts: 2, pool: 'pool', task: 1, op: 'started', worker: '102' });
    m.apply('100', { t: 'task', ts: 3, pool: 'pool', task: 1, op: 'done' });
    const p = m.snapshot().pools[0]!;
    assert.deepEqual([p.queued, p.running, p.done, p.meanTaskMs], [0, 0, 1, 1]);
  });

  it('lists every worker of a pool from its start, idle until a task runs on it', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 0);
    m.apply('100', { t: 'object', ts: 0, id: 'pool', kind: 'Pool', label: 'pool' });
    for (const pid of [101, 102, 103]) {
      m.apply('100', {
        t: 'child.start',
        ts: 1,
        key: String(pid),
        pid,
        threadId: 0,
        name: `SpawnPoolWorker-${pid - 100}`,
        startMethod: 'spawn',
        role: 'worker',
        daemon: true,
        pool: 'pool',
      });
    }
    m.apply('100', { t: 'task', ts: 2, pool: 'pool', task: 0, op: 'queued' });
    m.apply('100', { t: 'task', ts: 3, pool: 'pool', task: 0, op: 'started', worker: '102' });
    const p = m.snapshot().pools[0]!;
    assert.deepEqual([p.workers, p.busy], [['101', '102', '103'], ['102']]);
  });

  it('moves its version on every change and hands out immutable snapshots', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 0);
    m.apply('100', { t: 'object', ts: 0, id: 'Q', kind: 'Queue' });
    const first = m.version;
    assert.equal(m.snapshot().version, first);
    assert.equal(m.version, first, 'reading does not change it');
    const before = m.snapshot();
    m.apply('100', { t: 'queue', ts: 1, id: 'Q', puts: 1, gets: 0, depth: 1 });
    assert.ok(m.version > first);
    assert.equal(before.queues[0]!.depth, 0, 'an earlier snapshot never changes');
    assert.equal(m.snapshot().queues[0]!.depth, 1);
    const beforeRejected = m.version;
    m.connectionRejected();
    assert.ok(m.version > beforeRejected);
    assert.equal(m.snapshot().rejectedConnections, 1);
  });

  it('a waiter state clears when the process runs again', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 0);
    m.apply('100', { t: 'object', ts: 0, id: 'E', kind: 'Event', label: 'ready' });
    m.apply('100', { t: 'state', ts: 1, state: 'waiting', on: { id: 'E', kind: 'Event' } });
    assert.equal(m.snapshot().syncs[0]!.waiters.length, 1);
    assert.equal(m.snapshot().processes[0]!.waitingOn, 'E');
    m.apply('100', { t: 'state', ts: 2, state: 'running' });
    assert.equal(m.snapshot().syncs[0]!.waiters.length, 0);
    assert.equal(m.snapshot().processes[0]!.state, 'running');
  });

  it('counts manager calls from their callers, detailed and counted alike, and takes the server from its own reports', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 0);
    m.hello(hello(101, 'SyncManager-server', { role: 'manager', parent: '100' }), 0);
    m.hello(hello(102, 'Process-1', { parent: '100' }), 0);
    const call = (id: string, method: string, ms: number, outcome: 'ok' | 'error' = 'ok') => ({
      id,
      typeid: 'dict',
      method,
      start: 5,
      ms,
      outcome,
      ...(outcome === 'error' ? { error: "KeyError: 'x'" } : {}),
    });
    m.apply('100', { t: 'manager', ts: 6, manager: '127.0.0.1:9', side: 'call', calls: [call('a', 'set', 2), call('b', 'pop', 4, 'error')] });
    m.apply('102', {
      t: 'manager',
      ts: 7,
      manager: '127.0.0.1:9',
      side: 'call',
      calls: [call('c', 'set', 3)],
      counted: { 'dict.set': { calls: 10, errors: 0, ms: 10 }, 'Queue.put': { calls: 5, errors: 1, ms: 5 } },
    });
    m.apply('101', {
      t: 'manager',
      ts: 8,
      manager: '127.0.0.1:9',
      side: 'serve',
      calls: [call('a', 'set', 1), call('b', 'pop', 1, 'error'), call('c', 'set', 1)],
      counted: { 'dict.set': { calls: 10, errors: 0, ms: 3 }, 'Queue.put': { calls: 5, errors: 1, ms: 1 } },
    });
    const [node] = m.snapshot().managers!;
    assert.deepEqual(
      { calls: node!.calls, errors: node!.errors, served: node!.served, server: node!.server, meanMs: node!.meanMs },
      { calls: 18, errors: 2, served: 18, server: '101', meanMs: 24 / 18 },
    );
    assert.deepEqual(
      node!.methods.map((r) => [`${r.typeid}.${r.method}`, r.calls, r.errors, r.meanMs]),
      [
        ['dict.set', 12, 0, 15 / 12],
        ['Queue.put', 5, 1, 1],
        ['dict.pop', 1, 1, 4],
      ],
    );
    assert.deepEqual(node!.callers, [
      { key: '102', calls: 16 },
      { key: '100', calls: 2 },
    ]);
    assert.deepEqual(
      node!.recent.map((c) => [c.caller, c.method, c.outcome]),
      [
        ['100', 'set', 'ok'],
        ['100', 'pop', 'error'],
        ['102', 'set', 'ok'],
      ],
    );
    assert.equal(node!.recent[1]!.error, "KeyError: 'x'");
    // The terminal's tree says it on one line.
    assert.ok(
      renderTree(m.snapshot()).includes('managers: Manager 127.0.0.1:9 18 calls, 2 failed, mean 1.3 ms (dict.set 12, Queue.put 5, dict.pop 1)'),
      renderTree(m.snapshot()).join('\n'),
    );
  });
});
