// A pool under a real hub: the hub's counts equal what ran, however many tasks there are (a fast pool is only
// counted, in `pool` events, past the first tasks of each interval). Needs `npm run build` (imports 'forkscope').
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Hub } from '../../hub/hub';
import { runProgram } from './runProgram';

describe('a pool under a hub', () => {
  it('5,000 tasks at chunksize 1, 5 failures and a worker that dies holding tasks: done, failed, queued, running and busy are exact at exit', async () => {
    const hub = new Hub({ preload: false, sampleIntervalMs: false });
    const { env } = await hub.start();
    try {
      const run = await runProgram('test/fixtures/hub-pool.ts', { args: ['5000'], env, deadlineMs: 120_000 });
      assert.equal(run.code, 0, run.stderr);
      // What really happened (how many tasks the dying worker takes with it is up to timing).
      const truth = JSON.parse(run.stdout.trim().split('\n').pop()!) as { done: number; failed: number };
      assert.equal(truth.done + truth.failed, 5_606);
      assert.ok(truth.failed >= 6);
      // The last counts leave with the exit flush; give the hub a moment to read them.
      const deadline = Date.now() + 10_000;
      const pool = () => hub.model.snapshot().pools[0];
      while ((pool()?.done ?? 0) + (pool()?.failed ?? 0) < 5_606 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const p = pool();
      assert.ok(p, 'the pool was reported');
      assert.deepEqual({ done: p.done, failed: p.failed, queued: p.queued, running: p.running, busy: p.busy }, { ...truth, queued: 0, running: 0, busy: [] });
      assert.ok(p.workers.length >= 3, 'two workers and those that replaced the dead');
      assert.equal(hub.model.snapshot().droppedEvents, 0, 'nothing was dropped');
    } finally {
      await hub.close();
    }
  });
});
