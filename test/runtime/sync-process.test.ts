// Queue, Pipe, Lock, Event, Barrier passed to a real Process in every start method (issue 3's Process
// reduces them as arguments), each run under a hard deadline. Children re-import this file as their main
// module, so the tests are registered only in the main process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Barrier, Event, JoinableQueue, Lock, Pipe, Process, Queue, EOFError, isMainProcess } from 'forkscope';
import { everything } from '../fixtures/sync-targets';
import type { StartMethod } from '../../runtime/src/protocol';

const methods: StartMethod[] = isMainProcess() ? ['spawn', 'thread', 'forkserver', 'inline'] : [];
for (const method of methods.filter((m) => !process.env.SYNC_METHODS || process.env.SYNC_METHODS.includes(m))) {
  describe(`sync objects through Process (${method})`, () => {
    it('a child uses a Lock, a Pipe, an Event, a JoinableQueue and a Barrier', { timeout: 60_000 }, async () => {
      const lock = new Lock();
      const [mine, theirs] = Pipe();
      const event = new Event();
      const q = new JoinableQueue<number | null>();
      const barrier = new Barrier(2);
      const out = new Queue<unknown>();
      const p = new Process({ target: everything, args: [lock, theirs, event, q, barrier, out], startMethod: method });
      p.start();
      // Under inline, Process hands run() the very objects (not reduced copies), so closing ours would
      // close the child's: a gap in the inline start (issue 3), reported; the other methods pass copies.
      if (method !== 'inline') theirs.close();
      await mine.send('there');
      assert.deepEqual(await mine.recv(), { hello: 'there' });
      event.set();
      for (let i = 1; i <= 10; i++) await q.put(i);
      await q.put(null);
      await q.join();
      await barrier.wait(10_000);
      assert.deepEqual(await out.get({ timeout: 10_000 }), { locked: true, set: true, sum: 55, index: 'number' });
      await assert.rejects(mine.recv(), EOFError);
      await p.join();
      assert.equal(p.exitCode, 0);
    });
  });
}
