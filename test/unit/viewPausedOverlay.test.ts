// withPausedProcesses: the host's overlay of debugger-paused processes on the hub's snapshot.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withPausedProcesses } from '../../src/view/pausedOverlay';
import { busyProgram } from '../fixtures/view-snapshots';

describe('withPausedProcesses', () => {
  it('marks live processes paused, leaves the dead and the rest alone, and keeps identity when nothing changes', () => {
    const snapshot = busyProgram();
    assert.equal(withPausedProcesses(snapshot, new Set()), snapshot);
    assert.equal(withPausedProcesses(snapshot, new Set(['999'])), snapshot);
    const paused = withPausedProcesses(snapshot, new Set(['4101', '4104']));
    const byKey = new Map(paused.processes.map((p) => [p.key, p]));
    assert.equal(byKey.get('4101')?.state, 'paused');
    assert.equal(byKey.get('4104')?.state, 'exited', 'a dead process stays dead');
    assert.equal(
      byKey.get('4102'),
      snapshot.processes.find((p) => p.key === '4102'),
      'others keep their identity',
    );
    assert.equal(snapshot.processes.find((p) => p.key === '4101')?.state, 'running', 'the hub snapshot is not mutated');
  });
});
