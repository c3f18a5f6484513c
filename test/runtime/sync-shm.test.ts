// Lock and RLock over shared memory: a child takes and releases them while their creator's event loop
// is frozen (so no broker message can be answered), a holder killed with SIGKILL (a process) or kill() (a
// worker thread, its process alive) hands the lock on with ownerDied, and the broker fallback
// (FORKSCOPE_SHM_BINDING=none) still passes the sync suites. Semaphore and BoundedSemaphore likewise: a
// child cycles one with its creator frozen, permits are never exceeded, over-release is a ValueError.
// Children re-import this file as their main module, so the tests are registered only in the main process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedSemaphore, Lock, Pool, Process, RLock, RawArray, Semaphore, Value, isMainProcess } from 'forkscope';
import {
  cycleSemaphoreWhileCreatorFrozen,
  cycleWhileCreatorFrozen,
  holdSemaphore,
  holdUntilKilled,
  holdUntilTold,
  overRelease,
} from '../fixtures/sync-shm-targets';
import { spawn } from 'node:child_process';
import { REPO_ROOT } from './runProgram';
import { skipWithoutBinding } from './bindingExpected';
import type { StartMethod } from '../../runtime/src/protocol';

const main = isMainProcess();
const skip = main ? skipWithoutBinding() : false;

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Blocks this thread (no event-loop turn at all) until `check()` or `ms` pass. */
/** A child a failed test left running: ended, so the next test starts clean. */
async function killIfRunning(p: Process): Promise<void> {
  if (p.exitCode !== null) return;
  p.kill();
  await p.join();
}

function frozenUntil(check: () => boolean, ms: number): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) Atomics.wait(cell, 0, 0, 1);
}

const methods: StartMethod[] = main ? ['spawn', 'forkserver', 'thread'] : [];
for (const method of methods) {
  describe(`shared-memory Lock/RLock (${method})`, { skip }, () => {
    for (const Kind of [Lock, RLock]) {
      it(`${Kind.name}: a child takes it 500 times while the creator's event loop is frozen`, { timeout: 60_000 }, async () => {
        const lock = new Kind();
        const flag = new Value('i', 0, { lock: false });
        const p = new Process({ target: cycleWhileCreatorFrozen, args: [lock, flag, 500], startMethod: method });
        p.start();
        try {
          await until(() => flag.value === 1, 30_000);
          assert.equal(lock.locked(), true, 'the child holds it, seen here without a message');
          assert.equal(await lock.acquire({ block: false }), false);
          flag.value = 2;
          // Nothing here runs until the child is done: a broker round trip would never be answered.
          frozenUntil(() => flag.value === 3, 20_000);
          assert.equal(flag.value, 3, 'the child took and released the lock with its creator frozen');
          assert.equal(lock.locked(), false);
          assert.equal(await lock.acquire({ block: false }), true);
          lock.release();
          await p.join();
          assert.equal(p.exitCode, 0);
        } finally {
          await killIfRunning(p);
        }
      });
    }

    it('a waiter does not take the lock from a live holder that keeps it through several liveness checks', { timeout: 60_000 }, async () => {
      const lock = new Lock();
      const flag = new Value('i', 0, { lock: false });
      const p = new Process({ target: holdUntilTold, args: [lock, flag], startMethod: method });
      p.start();
      try {
        await until(() => flag.value === 1, 30_000);
        let settled = false;
        const next = lock.acquire({ timeout: 30_000 }).then((taken) => ((settled = true), taken));
        // The waiter checks the holder's liveness every 50 ms: six checks must all find it alive.
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(settled, false, 'the live holder kept it');
        flag.value = 2;
        assert.equal(await next, true);
        assert.equal(flag.value, 3, 'taken only after the holder released it');
        assert.equal(lock.ownerDied, false);
        lock.release();
        await p.join();
        assert.equal(p.exitCode, 0);
      } finally {
        await killIfRunning(p);
      }
    });

    // A thread's kill() terminates its Worker: its process lives on, so only its kernel thread id
    // (gone from /proc/<pid>/task once the thread ends) tells the waiter the holder is dead.
    const killed = method === 'thread' ? 'a holder thread terminated by kill()' : 'a holder killed with SIGKILL';
    if (method === 'thread') {
      it('Lock: a pool thread worker holding it, terminated with its pool, hands it on with ownerDied', { timeout: 60_000 }, async () => {
        const lock = new Lock();
        const flag = new Value('i', 0, { lock: false });
        const pool = new Pool({ processes: 1, context: 'thread' });
        try {
          const task = pool.applyAsync(holdUntilKilled, [lock, flag, 1]).get();
          task.catch(() => undefined);
          await until(() => flag.value === 1, 30_000);
          const next = lock.acquire({ timeout: 20_000 });
          pool.terminate();
          assert.equal(await next, true);
          assert.equal(lock.ownerDied, true);
          lock.release();
          await assert.rejects(task);
        } finally {
          pool.terminate();
          await pool.join();
        }
      });
    }

    for (const Kind of [Lock, RLock]) {
      it(`${Kind.name}: ${killed} hands it to the next waiter with ownerDied`, { timeout: 60_000 }, async () => {
        const lock = new Kind();
        const flag = new Value('i', 0, { lock: false });
        const p = new Process({ target: holdUntilKilled, args: [lock, flag, Kind === RLock ? 2 : 1], startMethod: method });
        p.start();
        try {
          await until(() => flag.value === 1, 30_000);
          assert.equal(lock.locked(), true);
          const next = lock.acquire({ timeout: 20_000 });
          p.kill();
          assert.equal(await next, true);
          assert.equal(lock.ownerDied, true);
          lock.release();
          assert.equal(lock.locked(), false, "the dead holder's re-entry levels are not inherited");
          assert.equal(await lock.acquire({ block: false }), true);
          assert.equal(lock.ownerDied, false);
          lock.release();
        } finally {
          if (p.exitCode === null) p.kill();
          await p.join();
        }
      });
    }
  });
}

for (const method of methods) {
  describe(`shared-memory Semaphore and BoundedSemaphore (${method})`, { skip }, () => {
    it("a child cycles a Semaphore 500 times while the creator's event loop is frozen", { timeout: 60_000 }, async () => {
      const sem = new Semaphore(1);
      const flag = new Value('i', 0, { lock: false });
      const p = new Process({ target: cycleSemaphoreWhileCreatorFrozen, args: [sem, flag, 500], startMethod: method });
      p.start();
      try {
        await until(() => flag.value === 1, 30_000);
        assert.equal(sem.getValue(), 0, 'the child holds it, seen here without a message');
        assert.equal(await sem.acquire({ block: false }), false);
        flag.value = 2;
        frozenUntil(() => flag.value === 3, 20_000);
        assert.equal(flag.value, 3, 'the child took and released it with its creator frozen');
        assert.equal(sem.getValue(), 1);
        await p.join();
        assert.equal(p.exitCode, 0);
      } finally {
        await killIfRunning(p);
      }
    });

    it('Semaphore(2): three children taking it 40 times each are never more than two inside', { timeout: 60_000 }, async () => {
      const sem = new Semaphore(2);
      const cells = new RawArray('i', 2);
      const children = [0, 1, 2].map(() => new Process({ target: holdSemaphore, args: [sem, cells, 40], startMethod: method }));
      for (const child of children) child.start();
      try {
        for (const child of children) await child.join();
        assert.deepEqual(
          children.map((c) => c.exitCode),
          [0, 0, 0],
        );
        assert.equal(cells[0], 0);
        assert.ok(cells[1]! <= 2, `at most two inside at once, saw ${cells[1]}`);
        assert.equal(sem.getValue(), 2);
      } finally {
        for (const child of children) if (child.exitCode === null) child.kill();
        for (const child of children) await child.join();
      }
    });

    it("BoundedSemaphore: a child's release past the initial value throws ValueError and changes nothing", { timeout: 60_000 }, async () => {
      const sem = new BoundedSemaphore(2);
      assert.equal(await sem.acquire(), true);
      sem.release();
      const flag = new Value('i', 0, { lock: false });
      const p = new Process({ target: overRelease, args: [sem, flag], startMethod: method });
      p.start();
      await p.join();
      assert.equal(flag.value, 1, 'ValueError in the child');
      assert.equal(sem.getValue(), 2);
      assert.throws(() => sem.release(), { name: 'ValueError' });
      assert.equal(await sem.acquire({ block: false }), true);
      assert.equal(await sem.acquire({ block: false }), true);
      assert.equal(await sem.acquire({ timeout: 30 }), false);
      sem.release(2);
      assert.equal(sem.getValue(), 2);
    });
  });
}

/** Runs test files under `node --test` with `env`, in their own process group, killed whole at the deadline. */
function runTests(files: string[], env: NodeJS.ProcessEnv, deadlineMs: number): Promise<{ code: number | null; stdout: string }> {
  // Under `node --test` this file runs with NODE_TEST_CONTEXT set, which would make the inner runner refuse.
  const { NODE_TEST_CONTEXT: _outer, ...inherited } = process.env;
  return new Promise((resolve) => {
    // TAP explicitly: it is the default off a TTY only up to Node 22; Node 24 defaults to spec.
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=tap', ...files], {
      cwd: REPO_ROOT,
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stdout += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    }, deadlineMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    });
  });
}

if (main) {
  describe('the broker path (FORKSCOPE_SHM_BINDING=none)', () => {
    it('sync.test.ts and sync-process.test.ts pass without the native binding', { timeout: 200_000 }, async () => {
      const files = ['test/runtime/sync.test.ts', 'test/runtime/sync-process.test.ts'];
      const run = await runTests(files, { FORKSCOPE_SHM_BINDING: 'none' }, 180_000);
      assert.equal(
        run.code,
        0,
        run.stdout
          .split('\n')
          .filter((l) => /not ok|Error/.test(l))
          .join('\n'),
      );
      assert.match(run.stdout, /# fail 0/);
      assert.ok(Number(/# pass (\d+)/.exec(run.stdout)?.[1]) >= 20, 'the suites ran');
    });
  });
}
