// The webview's state reducer and the host's snapshot diff: snapshot + deltas → view state, pure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotDiff } from '../../src/view/snapshotDiff';
import { EMPTY_STATE, describeExit, describeState, processRows, reduceView } from '../../webview/viewState';
import type { ViewState } from '../../webview/viewState';
import type { ProgramSnapshot } from '../../hub/snapshot';
import { NOW, busyProgram, deadlockedProgram, largeProgram } from '../fixtures/view-snapshots';

function load(snapshot: ProgramSnapshot | null, sessionName = 'demo'): ViewState {
  return reduceView(EMPTY_STATE, { type: 'snapshot', snapshot, sessionName, now: NOW });
}

/** The view state as plain data, to compare a state reached by deltas with one loaded whole. */
function plain(state: ViewState) {
  const sorted = (m: ReadonlyMap<string, unknown>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
  return {
    ...state,
    processes: sorted(state.processes),
    queues: sorted(state.queues),
    pipes: sorted(state.pipes),
    syncs: sorted(state.syncs),
    pools: sorted(state.pools),
    managers: sorted(state.managers),
    now: 0,
    sessionName: undefined,
  };
}

describe('reduceView', () => {
  it('a null snapshot is the empty state; a snapshot fills every collection by key', () => {
    assert.equal(load(null).hasProgram, false);
    const state = load(busyProgram());
    assert.equal(state.hasProgram, true);
    assert.equal(state.version, 42);
    assert.equal(state.processes.size, 12);
    assert.equal(state.processes.get('4100/1')?.name, 'EventWorker');
    assert.equal(state.queues.get('queue-1')?.depth, 7);
    assert.equal(state.syncs.get('lock-1')?.holder, '4105');
    assert.equal(state.rejectedConnections, 1);
  });

  it('applies a delta: upserts, removals, deadlocks and flags; unchanged items keep their identity', () => {
    const state = load(busyProgram());
    const consumer = state.processes.get('4106');
    const next = reduceView(state, {
      type: 'delta',
      now: NOW + 100,
      delta: {
        from: 42,
        to: 43,
        upsert: { processes: [{ ...state.processes.get('4105')!, state: 'exited', exitCode: 0 }], queues: [{ ...state.queues.get('queue-1')!, depth: 8 }] },
        remove: { pipes: ['pipe-1'] },
        deadlocks: deadlockedProgram().deadlocks,
        singleProcess: true,
      },
    });
    assert.equal(next.version, 43);
    assert.equal(next.now, NOW + 100);
    assert.equal(next.processes.get('4105')?.state, 'exited');
    assert.equal(next.processes.get('4106'), consumer);
    assert.equal(next.queues.get('queue-1')?.depth, 8);
    assert.equal(next.pipes.size, 0);
    assert.equal(next.syncs, state.syncs, 'an untouched collection keeps its map');
    assert.equal(next.deadlocks.length, 1);
    assert.equal(next.singleProcess, true);
    assert.equal(state.processes.get('4105')?.state, 'running', 'the previous state is not mutated');
  });

  it('a delta for another version asks for a full snapshot instead of guessing', () => {
    const state = load(busyProgram());
    const next = reduceView(state, { type: 'delta', delta: { from: 41, to: 43, upsert: {}, remove: {} } });
    assert.equal(next.needsResync, true);
    assert.equal(next.version, 42);
    assert.equal(reduceView(next, { type: 'delta', delta: { from: 41, to: 43, upsert: {}, remove: {} } }), next);
    const again = reduceView(next, { type: 'snapshot', snapshot: busyProgram(), now: NOW });
    assert.equal(again.needsResync, false);
    assert.equal(reduceView(EMPTY_STATE, { type: 'delta', delta: { from: 0, to: 1, upsert: {}, remove: {} } }).needsResync, true);
  });

  it('snapshotDiff + reduceView reach the same state as loading the next snapshot whole', () => {
    const before = busyProgram();
    const after = busyProgram();
    after.version = 50;
    after.processes = after.processes.filter((p) => p.key !== '4108').map((p) => (p.key === '4101' ? { ...p, cpu: 10 } : p));
    after.processes.push({
      key: '4200',
      pid: 4200,
      threadId: 0,
      name: 'Late',
      role: 'process',
      startMethod: 'spawn',
      state: 'starting',
      startedAt: NOW,
      parent: '4105',
    });
    after.queues[0] = { ...after.queues[0], depth: 1, history: [...after.queues[0].history, [NOW, 1]] };
    after.pools = [];
    after.managers = [
      {
        id: '127.0.0.1:9',
        label: 'Manager 127.0.0.1:9',
        server: '4101',
        calls: 3,
        errors: 1,
        served: 3,
        meanMs: 0.5,
        methods: [{ typeid: 'dict', method: 'set', calls: 3, errors: 1, meanMs: 0.5 }],
        callers: [{ key: '4105', calls: 3 }],
        recent: [],
      },
    ];
    after.deadlocks = deadlockedProgram().deadlocks;
    after.droppedEvents = 3;
    const delta = snapshotDiff(before, after);
    assert.ok(delta);
    assert.deepEqual(delta.remove.processes, ['4108']);
    assert.deepEqual(delta.upsert.processes?.map((p) => p.key).sort(), ['4101', '4200']);
    assert.equal(delta.upsert.pipes, undefined, 'unchanged pipes are not sent');
    const viaDelta = reduceView(load(before), { type: 'delta', delta, now: NOW });
    assert.deepEqual(plain(viaDelta), plain(load(after)));
    assert.equal(snapshotDiff(after, structuredClone(after)), undefined, 'equal snapshots give no delta');
  });
});

describe('processRows', () => {
  it('nests grandchildren under their parent, depth-first in start order', () => {
    const rows = processRows(load(busyProgram()).processes, new Set());
    const order = rows.map((r) => `${'  '.repeat(r.depth)}${r.node.key}`);
    assert.equal(rows[0].node.key, '4100');
    assert.equal(rows[0].depth, 0);
    const producer = order.indexOf('  4105');
    assert.equal(order[producer + 1], '    4107', 'Producer:1 sits right under Producer');
    assert.equal(rows.length, 12);
  });

  it('collapsing hides descendants; a parent cycle in bad data still terminates and shows everyone', () => {
    const processes = load(busyProgram()).processes;
    assert.equal(processRows(processes, new Set(['4100'])).length, 1);
    assert.equal(processRows(processes, new Set(['4105'])).length, 11);
    const cyclic = new Map(processes);
    cyclic.set('4100', { ...processes.get('4100')!, parent: '4107' });
    assert.equal(processRows(cyclic, new Set()).length, 12);
  });

  it('orders 1,000 processes quickly', () => {
    const state = load(largeProgram(1000));
    const started = performance.now();
    for (let i = 0; i < 20; i++) processRows(state.processes, new Set());
    assert.equal(processRows(state.processes, new Set()).length, 1000);
    assert.ok((performance.now() - started) / 20 < 50, 'well under a frame on a loaded machine');
  });
});

describe('describeState', () => {
  const state = load(busyProgram());
  const describe = (key: string) => describeState(state, state.processes.get(key)!);
  it('says how each process is doing and how dead ones died', () => {
    assert.equal(describe('4101'), 'running');
    assert.equal(describe('4103'), 'idle');
    assert.equal(describe('4100/1'), 'paused in the debugger');
    assert.equal(describe('4106'), 'waiting on Lock printLock for 1.8 s');
    assert.equal(describe('4104'), 'killed by SIGKILL');
    assert.equal(describe('4108'), 'exited with code 0');
    assert.equal(describe('4109'), 'failed with exit code 1');
    assert.equal(describeExit({ ...state.processes.get('4109')!, exitCode: -15 }), 'killed by SIGTERM');
    assert.equal(describeExit(state.processes.get('4101')!), undefined);
  });
});
