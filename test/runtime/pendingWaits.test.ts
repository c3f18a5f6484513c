// DESIGN.md: idle objects never keep a program alive, pending waits do. Each case runs a program whose main
// process awaits one wait that only a daemonic child (unref'd, so it keeps nothing alive) ends after a pause;
// a program that ends silently instead of printing "<wait> done" exited with the wait still pending.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runProgram } from './runProgram';

const EVERY_WAIT = [
  'Process.join',
  'Process.join timeout',
  'Queue.get',
  'Queue.get timeout',
  'SimpleQueue.get',
  'Queue.put',
  'JoinableQueue.join',
  'Lock.acquire',
  'Lock.acquire timeout',
  'RLock.acquire',
  'Semaphore.acquire',
  'Event.wait',
  'Event.wait timeout',
  'Condition.wait',
  'Barrier.wait',
  'Connection.recv',
  'Connection.poll',
  'connection.wait',
  'Listener.accept',
  'AsyncResult.get',
  'Future.result',
  'Manager Queue.get',
];
/** The other start methods reach the same waits through other handles (a worker thread, the forkserver's child). */
const SOME_WAITS = ['Process.join', 'Queue.get', 'Lock.acquire', 'Event.wait', 'Connection.recv'];

const cases: [string, string[]][] = [
  ['spawn', EVERY_WAIT],
  ['thread', SOME_WAITS],
  ['forkserver', SOME_WAITS],
];

for (const [method, waits] of cases)
  describe(`a pending wait keeps the program alive (${method})`, { concurrency: 3 }, () => {
    for (const wait of waits)
      it(`${wait}`, { timeout: 90_000 }, async () => {
        const run = await runProgram('test/fixtures/pending-waits.ts', { args: [wait, method], deadlineMs: 80_000 });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stdout.trim(), `${wait} done`, `the program exited with ${wait} pending\n${run.stderr}`);
      });
  });
