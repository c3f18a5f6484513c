// Issue 17: the model's process states follow the truth, and the trace has one start and one exit per
// process or thread, whoever reports them. Pure: recorded event streams, no processes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProgramModel } from '../../hub/programModel';
import { TraceRecorder } from '../../hub/traceRecorder';
import { hello } from './hello';

describe('ProgramModel: states that follow the truth', () => {
  it('ends a thread with its process', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 1);
    m.apply('100', { t: 'child.start', ts: 2, key: '100/1', pid: 100, threadId: 1, name: 'Thread-1', startMethod: 'thread', role: 'external' });
    assert.equal(m.process('100/1')?.state, 'running');
    m.processExited('100', null, 'SIGINT', 5);
    assert.deepEqual([m.process('100/1')?.state, m.process('100/1')?.exitedAt], ['exited', 5]);
  });

  it('shows a Manager server as serving', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 1);
    m.apply('100', { t: 'child.start', ts: 2, key: '101', pid: 101, threadId: 0, name: 'manager.cjs', startMethod: 'spawn', role: 'external' });
    assert.equal(m.process('101')?.state, 'starting');
    m.hello(hello(101, 'SyncManager-server', { role: 'manager', parent: '100' }), 3);
    assert.deepEqual([m.process('101')?.state, m.process('101')?.name, m.process('101')?.external], ['serving', 'SyncManager-server', undefined]);
  });

  it('shows a child the preload cannot reach as running from the sampler, and ends it when it is gone', () => {
    const m = new ProgramModel();
    m.hello(hello(100, 'MainProcess', { role: 'main' }), 1);
    m.apply('100', { t: 'child.start', ts: 2, key: '101', pid: 101, threadId: 0, name: 'process.js', startMethod: 'spawn', role: 'external' });
    m.sampled({ pid: 100, ppid: 1, cpu: 1, memory: 1 });
    m.sampled({ pid: 101, ppid: 100, cpu: 1, memory: 1 });
    m.sampledRound([100, 101], 3);
    assert.equal(m.process('101')?.state, 'running', 'alive, though it never said hello');
    m.sampled({ pid: 100, ppid: 1, cpu: 1, memory: 1 });
    m.sampledRound([100], 4);
    assert.deepEqual([m.process('101')?.state, m.process('101')?.exitedAt], ['exited', 4]);
    assert.equal(m.process('100')?.state, 'running', 'a process with its own connection ends with it, not with a sample');
  });
});

describe('TraceRecorder: one start and one exit', () => {
  it('draws one start and one exit per child, whoever reports them', () => {
    const r = new TraceRecorder(0);
    r.hello('100', hello(100, 'MainProcess', { role: 'main' }), 0);
    r.events('100', [
      { t: 'child.start', ts: 1, key: '101', pid: 101, threadId: 0, name: 'child.cjs', startMethod: 'spawn', role: 'external' },
      { t: 'child.start', ts: 1, key: '101', pid: 101, threadId: 0, name: 'Process-1', startMethod: 'spawn', role: 'process' },
    ]);
    r.events('101', [{ t: 'child.exit', ts: 5, key: '101', exitCode: 0, signal: null }]);
    r.events('100', [
      { t: 'child.exit', ts: 6, key: '101', exitCode: 0, signal: null },
      { t: 'child.exit', ts: 6, key: '101', exitCode: 0, signal: null },
    ]);
    const events = r.toJSON().traceEvents.filter((e) => e.cat === 'Process' && e.ph === 'i');
    assert.deepEqual(
      events.map((e) => e.name),
      ['MainProcess started', 'start child.cjs', 'exit 0'],
    );
  });
});

describe('TraceRecorder: every counted message is one joined arrow', () => {
  const arrows = (r: TraceRecorder) => {
    const events = r.toJSON().traceEvents;
    const starts = events.filter((e) => e.ph === 's');
    const ends = events.filter((e) => e.ph === 'f');
    return { starts, ends, joined: starts.filter((s) => ends.some((f) => f.id === s.id)).length };
  };

  it('joins a channel that only one side reports (a worker thread, a child the preload cannot reach)', () => {
    const r = new TraceRecorder(0);
    r.hello('100', hello(100, 'MainProcess', { role: 'main' }), 0);
    r.events('100', [
      { t: 'object', ts: 1, id: 'port-100-1', kind: 'Channel', label: 'worker 1' },
      { t: 'pipe', ts: 2, id: 'port-100-1', sent: 2, received: 0, bytesSent: 2, bytesReceived: 0, peer: '100/1' },
      { t: 'pipe', ts: 3, id: 'port-100-1', sent: 0, received: 3, bytesSent: 0, bytesReceived: 3, peer: '100/1' },
    ]);
    const { starts, ends, joined } = arrows(r);
    assert.equal(starts.length, 5);
    assert.equal(ends.length, 5);
    assert.equal(joined, 5);
    assert.equal(new Set(starts.map((s) => s.id)).size, 5, 'one id per message');
    const pairs = starts.map((s) => `${s.tid}>${ends.find((f) => f.id === s.id)!.tid}`).sort();
    assert.deepEqual(pairs, ['0>1', '0>1', '1>0', '1>0', '1>0'], 'from the sender to the receiver: 2 to the thread, 3 from it');
  });

  it('joins a Pipe whose ends do not name each other, each direction in order', () => {
    const r = new TraceRecorder(0);
    r.events('200', [{ t: 'object', ts: 1, id: 'Pipe-1', kind: 'Pipe', label: 'jobs' }]);
    r.events('200', [{ t: 'pipe', ts: 2, id: 'Pipe-1', sent: 2, received: 0, bytesSent: 2, bytesReceived: 0 }]);
    r.events('300', [{ t: 'pipe', ts: 3, id: 'Pipe-1', sent: 1, received: 2, bytesSent: 1, bytesReceived: 2 }]);
    r.events('200', [{ t: 'pipe', ts: 4, id: 'Pipe-1', sent: 0, received: 1, bytesSent: 0, bytesReceived: 1 }]);
    const { starts, ends, joined } = arrows(r);
    assert.equal(starts.length, 3);
    assert.equal(joined, 3);
    for (const s of starts) assert.notEqual(ends.find((f) => f.id === s.id)!.pid, s.pid, 'from one end to the other');
  });
});
