// ProcessPoolExecutor, Future, wait and asCompleted with real workers; a killed worker breaks the executor
// (BrokenProcessPool), as in Python. Children re-import this file, so tests register in the main process only.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ProcessPoolExecutor,
  Future,
  wait,
  asCompleted,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  ALL_COMPLETED,
  BrokenProcessPool,
  CancelledError,
  TimeoutError,
  isMainProcess,
  activeChildren,
  AsyncResult,
  Process,
} from 'forkscope';
import { square, add, slowSquare, throwCustom, sleepMs, recordPidAndSleep } from '../fixtures/runtime-tasks';
import { nap } from '../fixtures/pool-tasks';

const dir = isMainProcess() ? mkdtempSync(join(tmpdir(), 'forkscope-executor-')) : '';

if (isMainProcess()) {
  after(() => {
    assert.deepEqual(activeChildren(), []);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('Future (no workers)', () => {
    it("every wait reads its timeout one way: a bare number where Python's first parameter is it, NaN or a string is a TypeError", async () => {
      const f = new Future<number>();
      await assert.rejects(f.result(10), TimeoutError);
      await assert.rejects(f.exception(-1), TimeoutError);
      await assert.rejects(f.result({ timeout: Number.NaN }), TypeError);
      await assert.rejects(f.result('5' as never), TypeError);
      await assert.rejects(wait([f], { timeout: 'x' as never }), TypeError);
      await assert.rejects(wait([f], 10 as never), TypeError);
      assert.deepEqual((await wait([f], { timeout: -1 })).notDone, new Set([f]));
      assert.throws(() => asCompleted([f], { timeout: Number.NaN }), TypeError);
      const it = asCompleted([f], { timeout: 20 });
      await assert.rejects(it.next(), TimeoutError);
      const r = new AsyncResult(new Promise<number>(() => {}));
      await assert.rejects(r.get(10), TimeoutError);
      await assert.rejects(r.get({ timeout: Number.NaN }), TypeError);
      await r.wait(5);
      await assert.rejects(r.wait('1' as never), TypeError);
      const p = new Process({ target: square, args: [1], startMethod: 'inline' });
      p.start();
      await assert.rejects(p.join(Number.NaN), TypeError);
      await p.join(20_000);
      assert.equal(p.exitCode, 0);
    });

    it('settles once, runs done callbacks, and cancels only while pending', async () => {
      const f = new Future<number>();
      const seen: number[] = [];
      f.addDoneCallback(() => seen.push(1));
      assert.equal(f.done(), false);
      await assert.rejects(f.result({ timeout: 10 }), TimeoutError);
      f.setResult(5);
      // Python: a second set_result() raises InvalidStateError and keeps the first result.
      assert.throws(() => f.setResult(6), { name: 'InvalidStateError' });
      assert.throws(() => f.setException(new Error('late')), { name: 'InvalidStateError' });
      assert.equal(await f, 5);
      assert.equal(await f.exception(), null);
      assert.deepEqual(seen, [1]);
      assert.equal(f.cancel(), false);
      const g = new Future();
      assert.equal(g.cancel(), true);
      assert.equal(g.cancelled(), true);
      await assert.rejects(g.result(), CancelledError);
      assert.equal(FIRST_COMPLETED, 'FIRST_COMPLETED');
      assert.equal(FIRST_EXCEPTION, 'FIRST_EXCEPTION');
      assert.equal(ALL_COMPLETED, 'ALL_COMPLETED');
    });
  });

  for (const method of ['spawn', 'thread', 'inline'] as const) {
    describe(`ProcessPoolExecutor (${method})`, { timeout: 90_000 }, () => {
      it('submit() spreads arguments and returns the Future itself; map() zips iterables', async () => {
        await using executor = new ProcessPoolExecutor({ maxWorkers: 2, context: method });
        const f = executor.submit(add, 2, 3);
        assert.ok(f instanceof Future);
        assert.equal(await f.result({ timeout: 30_000 }), 5);
        assert.equal(f.done(), true);
        assert.deepEqual(await executor.map(add, [1, 2, 3], [10, 20, 30]), [11, 22, 33]);
        const got: number[] = [];
        for await (const v of executor.map(square, [1, 2, 3], { chunksize: 2 })) got.push(v);
        assert.deepEqual(got, [1, 4, 9]);
        const bad = executor.submit(throwCustom, 'x');
        const e = (await bad.exception()) as Error;
        assert.equal(e.name, 'CustomError');
        await assert.rejects(bad.result(), { name: 'CustomError', message: 'x' });
      });

      it('wait() and asCompleted() yield the futures themselves', async () => {
        await using executor = new ProcessPoolExecutor({ maxWorkers: 2, context: method });
        // Slow enough that the second worker is surely up (start-up takes seconds on a loaded machine).
        const slow = executor.submit(slowSquare, 2, method === 'inline' ? 1500 : 8000);
        const fast = executor.submit(square, 3);
        const first = await wait([slow, fast], { returnWhen: FIRST_COMPLETED });
        // Inline runs calls one after another in this process, so the slow one finishes first there.
        assert.ok(first.done.has(method === 'inline' ? slow : fast));
        const failing = executor.submit(throwCustom, 'y');
        const fe = await wait([slow, failing], { returnWhen: FIRST_EXCEPTION });
        assert.ok(fe.done.has(failing));
        const order: unknown[] = [];
        for await (const f of asCompleted([slow, fast])) {
          assert.ok(f instanceof Future);
          order.push(f);
        }
        assert.equal(order.length, 2);
        const all = await wait([slow, fast], { returnWhen: ALL_COMPLETED });
        assert.equal(all.notDone.size, 0);
      });

      it('shutdown({ cancelFutures }) cancels what has not started', async () => {
        const executor = new ProcessPoolExecutor({ maxWorkers: 1, context: method });
        const running = executor.submit(slowSquare, 2, 300);
        const queued = Array.from({ length: 5 }, (_, i) => executor.submit(slowSquare, i, 300));
        while (!running.running() && !running.done()) await sleepMs(10);
        await executor.shutdown({ wait: true, cancelFutures: true });
        assert.equal(await running, 4);
        assert.ok(queued.some((f) => f.cancelled()));
        assert.throws(() => executor.submit(square, 1), /after shutdown/);
      });
    });
  }

  for (const method of ['spawn', 'thread', 'forkserver', 'inline'] as const) {
    describe(`ProcessPoolExecutor workers as children (${method})`, { timeout: 90_000 }, () => {
      it(
        method === 'inline' ? 'starts no process: every call runs here' : 'lists its workers in activeChildren() while they live, none once shut down',
        async () => {
          const executor = new ProcessPoolExecutor({ maxWorkers: 2, context: method });
          const calls = [executor.submit(slowSquare, 2, 300), executor.submit(square, 3)];
          const listed = activeChildren();
          // Python's executor workers are Process objects of the program's; inline has none (it started two before).
          assert.equal(listed.length, method === 'inline' ? 0 : 2);
          for (const p of listed)
            assert.ok(
              p.isAlive() &&
                p.daemon &&
                p.name.startsWith({ spawn: 'SpawnProcess-', thread: 'ThreadProcess-', forkserver: 'ForkServerProcess-', inline: '' }[method]),
              p.name,
            );
          assert.deepEqual(await Promise.all(calls), [4, 9]);
          await executor.shutdown({ wait: true });
          assert.deepEqual(activeChildren(), []);
          for (const p of listed) assert.equal(p.exitCode, 0);
        },
      );
    });
  }

  for (const method of ['spawn', 'thread', 'forkserver'] as const) {
    describe(`ProcessPoolExecutor dispatch (${method})`, { timeout: 90_000 }, () => {
      it('an idle worker takes the next call: submit(nap, 600) then submit(nap, 50) finish 50 first', async () => {
        await using executor = new ProcessPoolExecutor({ maxWorkers: 2, context: method });
        // Both workers up (two naps at once on two workers), and measured as fast by a few quick calls.
        for (let tries = 0; tries < 20; tries++) {
          const [a, b] = await Promise.all([executor.submit(nap, 200), executor.submit(nap, 200)]);
          if (a !== b) break;
        }
        await executor.map(
          nap,
          Array.from({ length: 20 }, () => 0),
        );
        const order: number[] = [];
        const long = executor.submit(nap, 600).then(() => order.push(600));
        const short = executor.submit(nap, 50).then(() => order.push(50));
        await Promise.all([long, short]);
        assert.deepEqual(order, [50, 600]);
      });
    });
  }

  describe('ProcessPoolExecutor (spawn) when a worker dies', { timeout: 60_000 }, () => {
    it('fails every pending future with BrokenProcessPool and refuses new work', async () => {
      await using executor = new ProcessPoolExecutor({ maxWorkers: 2, context: 'spawn' });
      const file = join(dir, 'pid');
      const victim = executor.submit(recordPidAndSleep, file, 30_000);
      const pending = Array.from({ length: 4 }, () => executor.submit(sleepMs, 20_000));
      const deadline = Date.now() + 30_000;
      while (!existsSync(file) && Date.now() < deadline) await sleepMs(20);
      process.kill(Number(readFileSync(file, 'utf8')), 'SIGKILL');
      await assert.rejects(victim.result(), BrokenProcessPool);
      for (const f of pending) await assert.rejects(f.result(), (e: Error) => e.name === 'BrokenProcessPool');
      assert.throws(() => executor.submit(square, 1), BrokenProcessPool);
    });
  });
}
