// A bullmq cluster in the hub and the view: the `cluster` event's checks, the model's reading (the latest replaces
// the last, workers by host), the terminal's node per host, and the view's delta carrying it. Pure modules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterActivity } from '../../runtime/src/protocol';
import { ProgramModel } from '../../hub/programModel';
import { isEvent } from '../../hub/validateFrame';
import { describeCluster } from '../../hub/treeView';
import { snapshotDiff } from '../../src/view/snapshotDiff';
import { EMPTY_STATE, reduceView } from '../../webview/viewState';

function reading(ts: number, over: Partial<ClusterActivity> = {}): ClusterActivity {
  const worker = (name: string, host: string, pid: number, jobsDone: number) => ({
    name,
    host,
    pid,
    capacity: 2,
    program: 'shop',
    version: '1.2.0',
    queue: 'fs:tasks',
    startedAt: 1,
    alive: true,
    jobsDone,
    jobsFailed: 0,
  });
  return {
    t: 'cluster',
    ts,
    id: '10.0.0.5:6379/fs:tasks',
    address: '10.0.0.5:6379',
    queue: 'fs:tasks',
    workers: [worker('b1', 'hostB', 7, 3), worker('a2', 'hostA', 9, 1), worker('a1', 'hostA', 8, 2)],
    waiting: 4,
    active: 2,
    delayed: 0,
    completed: 6,
    failed: 0,
    retried: 0,
    submitted: 12,
    ended: 6,
    ...over,
  };
}

describe('a bullmq cluster in the hub', () => {
  it('isEvent() takes a well-formed reading and refuses a worker without its counts', () => {
    assert.equal(isEvent(reading(1)), true);
    const bad = reading(1);
    delete (bad.workers[0] as Partial<(typeof bad.workers)[0]>).jobsDone;
    assert.equal(isEvent(bad), false);
    assert.equal(isEvent({ t: 'job', ts: 1, cluster: 'c', job: 'j1', op: 'submitted', fn: 'square' }), true);
    assert.equal(isEvent({ t: 'job', ts: 1, cluster: 'c', job: 'j1', op: 'exploded' }), false);
  });

  it('the latest reading replaces the last; workers are listed by host; the tree has a node per host', () => {
    const model = new ProgramModel();
    model.hello({ t: 'hello', v: 1, token: 't', pid: 100, ppid: 1, threadId: 0, name: 'MainProcess', startMethod: 'spawn', role: 'main' });
    model.apply('100', reading(10));
    model.apply('100', reading(20, { active: 0, waiting: 0, completed: 11, failed: 1, retried: 1, ended: 12 }));
    const [c] = model.snapshot().clusters!;
    assert.ok(c);
    assert.deepEqual(
      { active: c.active, waiting: c.waiting, completed: c.completed, failed: c.failed, retried: c.retried, reportedBy: c.reportedBy, updatedAt: c.updatedAt },
      { active: 0, waiting: 0, completed: 11, failed: 1, retried: 1, reportedBy: '100', updatedAt: 20 },
    );
    assert.deepEqual(
      c.workers.map((w) => `${w.host}/${w.name}`),
      ['hostA/a1', 'hostA/a2', 'hostB/b1'],
    );
    assert.deepEqual(describeCluster(c), [
      'cluster fs:tasks on redis 10.0.0.5:6379: 0 waiting, 0 active, 11 completed, 1 failed, 1 retried',
      '├─ host hostA',
      '│  ├─ worker a1 (pid 8, capacity 2, shop@1.2.0) idle · 2 done',
      '│  └─ worker a2 (pid 9, capacity 2, shop@1.2.0) idle · 1 done',
      '└─ host hostB',
      '   └─ worker b1 (pid 7, capacity 2, shop@1.2.0) idle · 3 done',
    ]);
  });

  it('the view gets the cluster in its snapshot and in deltas', () => {
    const model = new ProgramModel();
    model.apply('100', reading(10));
    const first = model.snapshot();
    let state = reduceView(EMPTY_STATE, { type: 'snapshot', snapshot: first, now: 10 });
    assert.equal(state.clusters.get('10.0.0.5:6379/fs:tasks')?.workers.length, 3);
    model.apply('100', reading(20, { workers: [], active: 0 }));
    const delta = snapshotDiff(first, model.snapshot())!;
    assert.equal(delta.upsert.clusters?.length, 1);
    state = reduceView(state, { type: 'delta', delta, now: 20 });
    assert.deepEqual(state.clusters.get('10.0.0.5:6379/fs:tasks')?.workers, []);
  });
});
