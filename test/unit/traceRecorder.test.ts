// The trace recorder on a recorded event stream: Chrome trace-event JSON as Perfetto reads it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Hello } from '../../runtime/src/protocol';
import { TraceRecorder } from '../../hub/traceRecorder';

const hello = (pid: number, threadId: number, name: string): Hello => ({
  t: 'hello',
  v: 1,
  token: 'x',
  pid,
  ppid: 1,
  threadId,
  name,
  startMethod: threadId ? 'thread' : 'spawn',
  role: threadId ? 'worker' : 'main',
});

describe('TraceRecorder', () => {
  it('names processes and threads, draws task spans, depth counters, message arrows and lock waits', () => {
    const t0 = 1_000_000;
    const r = new TraceRecorder(t0);
    r.hello('100', hello(100, 0, 'MainProcess'), t0);
    r.hello('100/1', hello(100, 1, 'PoolWorker-1'), t0 + 1);
    r.hello('200', hello(200, 0, 'Process-1'), t0 + 1);
    r.events('100', [
      { t: 'object', ts: t0 + 2, id: 'Q', kind: 'Queue', label: 'jobs' },
      { t: 'object', ts: t0 + 2, id: 'L', kind: 'Lock', label: 'ledger' },
      { t: 'task', ts: t0 + 10, pool: 'P', task: 1, op: 'started', worker: '100/1', fn: 'square' },
      { t: 'task', ts: t0 + 25, pool: 'P', task: 1, op: 'done' },
      { t: 'queue', ts: t0 + 30, id: 'Q', puts: 2, gets: 0, depth: 2 },
    ]);
    r.events('200', [
      { t: 'queue', ts: t0 + 40, id: 'Q', puts: 0, gets: 2, depth: 0 },
      { t: 'state', ts: t0 + 50, state: 'waiting', on: { id: 'L', kind: 'Lock' }, site: { file: '/app/a.ts', line: 3, column: 9 } },
      { t: 'state', ts: t0 + 80, state: 'running' },
    ]);
    const { traceEvents } = r.toJSON();
    const meta = traceEvents.filter((e) => e.ph === 'M');
    assert.ok(meta.some((e) => e.name === 'process_name' && e.pid === 100 && String(e.args?.name).startsWith('MainProcess')));
    assert.ok(meta.some((e) => e.name === 'thread_name' && e.pid === 100 && e.tid === 1 && e.args?.name === 'PoolWorker-1'));
    const task = traceEvents.find((e) => e.ph === 'X' && e.cat === 'Pool')!;
    assert.deepEqual([task.name, task.pid, task.tid, task.ts, task.dur], ['square', 100, 1, 10_000, 15_000]);
    const counters = traceEvents.filter((e) => e.ph === 'C');
    assert.deepEqual(
      counters.map((c) => [c.pid, c.args?.depth]),
      [
        [100, 2],
        [200, 0],
      ],
    );
    assert.ok(counters.every((c) => c.name === 'Queue jobs depth' && c.cat === 'Queue'));
    const starts = traceEvents.filter((e) => e.ph === 's');
    const ends = traceEvents.filter((e) => e.ph === 'f');
    assert.equal(starts.length, 2);
    assert.deepEqual(
      starts.map((e) => e.id),
      ends.map((e) => e.id),
      'the n-th get ends the n-th put',
    );
    assert.ok(starts.every((e) => e.pid === 100) && ends.every((e) => e.pid === 200 && e.bp === 'e'));
    const wait = traceEvents.find((e) => e.name === 'Lock wait ledger')!;
    assert.deepEqual([wait.ph, wait.pid, wait.ts, wait.dur, wait.cat, wait.args?.site], ['X', 200, 50_000, 30_000, 'Lock', '/app/a.ts:3:9']);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(r.toJSON())));
  });

  it('single-process mode: what an inline process does is drawn on its own named row, not on the host’s', () => {
    const t0 = 1_000_000;
    const r = new TraceRecorder(t0);
    r.hello('100', hello(100, 0, 'MainProcess'), t0);
    r.events('100', [
      { t: 'object', ts: t0 + 1, id: 'L', kind: 'Lock', label: 'ledger' },
      { t: 'child.start', ts: t0 + 2, key: '100~1', pid: 100, threadId: 0, name: 'Holder', startMethod: 'inline', role: 'process' },
      { t: 'context', ts: t0 + 3, key: '100~1' },
      { t: 'sync', ts: t0 + 3, id: 'L', op: 'acquire', holder: '100~1' },
      { t: 'context', ts: t0 + 4 },
      { t: 'sync', ts: t0 + 5, id: 'L', op: 'release', holder: null },
    ]);
    const { traceEvents } = r.toJSON();
    const row = traceEvents.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'Holder (inline)');
    assert.ok(row, 'the inline process has a row of its own');
    assert.deepEqual(
      traceEvents.filter((e) => e.cat === 'Lock').map((e) => [e.name, e.pid, e.tid]),
      [
        ['Lock acquire ledger', 100, row.tid],
        ['Lock release ledger', 100, 0],
      ],
    );
  });
});
