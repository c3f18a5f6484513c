// ViewUpdater: full snapshot on show and on request, deltas at a capped rate, nothing while hidden.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ProgramSnapshot } from '../../hub/snapshot';
import type { HostToWebview } from '../../src/view/messages';
import { ViewUpdater } from '../../src/view/viewUpdater';
import { busyProgram } from '../fixtures/view-snapshots';

function rig(maxUpdatesPerSecond = 10) {
  let clock = 0;
  let snapshot: ProgramSnapshot | null = busyProgram();
  const sent: HostToWebview[] = [];
  const timers: Array<{ at: number; fn: () => void; handle: number }> = [];
  let nextHandle = 1;
  const updater = new ViewUpdater({
    content: () => ({ snapshot, sessionName: 'demo' }),
    post: (m) => sent.push(m),
    maxUpdatesPerSecond: () => maxUpdatesPerSecond,
    now: () => clock,
    setTimer: (fn, ms) => {
      const handle = nextHandle++;
      timers.push({ at: clock + ms, fn, handle });
      return handle;
    },
    clearTimer: (handle) => {
      const i = timers.findIndex((t) => t.handle === handle);
      if (i >= 0) timers.splice(i, 1);
    },
  });
  const advance = (ms: number) => {
    clock += ms;
    for (const t of timers.filter((t) => t.at <= clock)) {
      timers.splice(timers.indexOf(t), 1);
      t.fn();
    }
  };
  const change = (depth: number) => {
    const next = structuredClone(snapshot!);
    next.version++;
    next.queues[0].depth = depth;
    snapshot = next;
    updater.notify();
  };
  return { updater, sent, advance, change, timers, setSnapshot: (s: ProgramSnapshot | null) => (snapshot = s) };
}

describe('ViewUpdater', () => {
  it('sends nothing while hidden, and a full snapshot when shown', () => {
    const { updater, sent, change } = rig();
    change(1);
    change(2);
    assert.equal(sent.length, 0);
    updater.setVisible(true);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].type, 'snapshot');
    assert.equal(sent[0].type === 'snapshot' && sent[0].snapshot?.queues[0].depth, 2);
  });

  it('caps updates: a burst of 100 changes within a second gives at most 10 deltas, the last one current', () => {
    const { updater, sent, change, advance } = rig(10);
    updater.setVisible(true);
    sent.length = 0;
    for (let i = 0; i < 100; i++) {
      change(i);
      advance(10);
    }
    advance(200);
    assert.ok(sent.length <= 11 && sent.length >= 5, `sent ${sent.length}`);
    assert.ok(sent.every((m) => m.type === 'delta'));
    const last = sent.at(-1)!;
    assert.equal(last.type === 'delta' && last.delta.upsert.queues?.[0].depth, 99);
    for (let i = 1; i < sent.length; i++) {
      const [a, b] = [sent[i - 1], sent[i]];
      assert.ok(a.type === 'delta' && b.type === 'delta' && b.delta.from === a.delta.to, 'deltas chain by version');
    }
  });

  it('hiding cancels the pending update; showing again sends the whole picture', () => {
    const { updater, sent, change, advance, timers } = rig(2);
    updater.setVisible(true);
    change(5); // sent at once: the first update after a while
    change(6); // waits for the cap
    assert.equal(timers.length, 1);
    updater.setVisible(false);
    assert.equal(timers.length, 0);
    advance(5000);
    const count = sent.length;
    change(7);
    assert.equal(sent.length, count);
    updater.setVisible(true);
    assert.equal(sent.at(-1)?.type, 'snapshot');
  });

  it('resync sends a snapshot; a session that ends sends null once', () => {
    const { updater, sent, setSnapshot, advance } = rig();
    updater.setVisible(true);
    updater.resync();
    assert.deepEqual(
      sent.map((m) => m.type),
      ['snapshot', 'snapshot'],
    );
    setSnapshot(null);
    updater.notify();
    advance(1000);
    updater.notify();
    advance(1000);
    const last = sent.at(-1)!;
    assert.equal(last.type === 'snapshot' && last.snapshot, null);
    assert.equal(sent.length, 3);
    updater.dispose();
  });
});
