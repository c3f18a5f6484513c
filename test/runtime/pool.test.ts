// Pool over every start method: map/starmap/apply/imap, chunks, initializer, maxTasksPerChild, and crashes
// (kill -9 mid-map, process.exit in a task, throw 42, unserialisable results, failing start-up), each bounded.
// Children re-import this file as their main module, so every test is registered only in the main process.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, AsyncResult, isMainProcess, activeChildren, TimeoutError } from 'forkscope';
import {
  square,
  add,
  slowSquare,
  whoAmI,
  throw42,
  throwCustom,
  exitNow,
  returnsFunction,
  spin,
  init,
  readInit,
  failInit,
  sleepMs,
  identity,
  recordPidAndSleep,
} from '../fixtures/runtime-tasks';
import { performance } from 'node:perf_hooks';
import { quietly } from './runProgram';
import {
  nap,
  echo,
  InsufficientFunds,
  throwInsufficient,
  throwHidden,
  throwSample,
  callIt,
  double,
  giveDouble,
  writeCall,
  callFromQueue,
} from '../fixtures/pool-tasks';
import * as forkscope from 'forkscope';
import { ProcessPoolExecutor, Process, Queue, Pipe, RemoteError, PicklingError } from 'forkscope';
import { crossedAs, errorClassNames } from '../fixtures/error-samples';

const dir = isMainProcess() ? mkdtempSync(join(tmpdir(), 'forkscope-pool-')) : '';

if (isMainProcess()) {
  after(() => {
    assert.deepEqual(activeChildren(), []);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const method of ['spawn', 'thread', 'forkserver', 'inline'] as const) {
    describe(`Pool (${method})`, { timeout: 90_000 }, () => {
      it("map, starmap, apply, applyAsync and imap give Python's results", async () => {
        await using pool = new Pool({ processes: 2, context: method });
        const xs = Array.from({ length: 100 }, (_, i) => i);
        assert.deepEqual(
          await pool.map(square, xs),
          xs.map((x) => x * x),
        );
        assert.deepEqual(
          await pool.map(square, xs, { chunksize: 1 }),
          xs.map((x) => x * x),
        );
        assert.deepEqual(await pool.map(square, []), []);
        assert.deepEqual(
          await pool.starmap(add, [
            [1, 2],
            [3, 4],
          ]),
          [3, 7],
        );
        assert.equal(await pool.apply(add, [5, 6]), 11);
        let called: number | undefined;
        const r = pool.applyAsync(add, [1, 1], { callback: (v) => (called = v) });
        assert.ok(r instanceof AsyncResult);
        assert.equal(await r.get({ timeout: 20_000 }), 2);
        assert.equal(r.ready(), true);
        assert.equal(r.successful(), true);
        assert.equal(called, 2);
        assert.deepEqual(await pool.mapAsync(square, [3, 4]), [9, 16]);
        assert.deepEqual(await pool.starmapAsync(add, [[2, 2]]).get(), [4]);
        const ordered: number[] = [];
        for await (const v of pool.imap(slowSquare, [3, 1, 2], { chunksize: 1 })) ordered.push(v);
        assert.deepEqual(ordered, [9, 1, 4]);
        const unordered: number[] = [];
        for await (const v of pool.imapUnordered(square, [1, 2, 3, 4, 5], { chunksize: 2 })) unordered.push(v);
        assert.deepEqual(
          unordered.sort((a, b) => a - b),
          [1, 4, 9, 16, 25],
        );
        assert.deepEqual(await pool.map(identity, [new Map([[1, 2]]), 10n, new Date(3)]), [new Map([[1, 2]]), 10n, new Date(3)]);
        // Chunks of 64+ numbers cross packed both ways; a result that is not a number unpacks the rest of its chunk.
        const mixed = [...Array.from({ length: 70 }, (_, i) => (i === 3 ? -0 : i === 4 ? NaN : i + 0.5)), 'seventy', { n: 71 }, 72];
        assert.deepEqual(await pool.map(identity, mixed, { chunksize: 200 }), mixed);
        const big = Array.from({ length: 300 }, (_, i) => i);
        const viaImap: number[] = [];
        for await (const v of pool.imap(square, big, { chunksize: 100 })) viaImap.push(v);
        assert.deepEqual(
          viaImap,
          big.map((x) => x * x),
        );
        assert.ok(Array.isArray(await pool.map(square, big, { chunksize: 100 })), 'map resolves with an Array, not a typed array');
      });

      it("a task's error keeps its name, message and stack; throw 42 rejects with 42", async () => {
        await using pool = new Pool({ processes: 1, context: method });
        await assert.rejects(pool.apply(throwCustom, ['nope']), (e: Error) => {
          assert.equal(e.name, 'CustomError');
          assert.equal(e.message, 'nope');
          assert.match(e.stack ?? '', /throwCustom/);
          return true;
        });
        await assert.rejects(pool.apply(throw42), (e) => e === 42);
        const r = pool.applyAsync(throwCustom, ['x']);
        await r.wait();
        assert.equal(r.successful(), false);
        assert.deepEqual(await pool.map(square, [2]), [4]);
      });

      it('runs the initializer in each worker and replaces workers after maxTasksPerChild', async () => {
        await using pool = new Pool({
          processes: 1,
          context: method,
          initializer: init,
          initargs: ['ready'],
          maxTasksPerChild: method === 'inline' ? undefined : 2,
        });
        assert.equal(await pool.apply(readInit), 'ready');
        if (method !== 'inline') {
          const who = [];
          for (let i = 0; i < 4; i++) who.push((await pool.apply(whoAmI)).name);
          assert.ok(new Set(who).size >= 2, `workers were replaced: ${who.join(',')}`);
          assert.equal(await pool.apply(readInit), 'ready');
        }
      });

      it('close() then join() waits for queued work; using a closed pool is a ValueError', async () => {
        const pool = new Pool({ processes: 2, context: method });
        const pending = pool.mapAsync(slowSquare, [1, 2, 3, 4], { chunksize: 1 });
        pool.close();
        await pool.join();
        assert.deepEqual(await pending, [1, 4, 9, 16]);
        assert.throws(() => pool.map(square, [1]), { name: 'ValueError' });
      });

      it('a task timeout or AbortSignal fails that task only; the pool goes on', async () => {
        if (method === 'inline') return;
        await using pool = new Pool({ processes: 1, context: method });
        await assert.rejects(pool.apply(spin, [], { timeout: 300 }), TimeoutError);
        const controller = new AbortController();
        const aborted = pool.apply(sleepMs, [30_000], { signal: controller.signal });
        setTimeout(() => controller.abort(), 100);
        await assert.rejects(aborted, { name: 'AbortError' });
        assert.equal(await pool.apply(add, [1, 2]), 3);
      });

      if (method !== 'inline') {
        it('a worker killed mid-map fails only its task, naming pid and signal; the pool replaces it', async () => {
          await using pool = new Pool({ processes: 2, context: method });
          if (method === 'thread') {
            // A thread cannot be signalled alone; a thread that ends itself is the same failure.
            const others = pool.map(slowSquare, [1, 2, 3, 4, 5, 6], { chunksize: 1 });
            await assert.rejects(pool.apply(exitNow, [3]), (e: Error) => e.name === 'WorkerDiedError' && /exited with code 3/.test(e.message));
            assert.deepEqual(await others, [1, 4, 9, 16, 25, 36]);
          } else {
            const file = join(dir, `pid-${method}`);
            const victimTask = pool.apply(recordPidAndSleep, [file, 30_000]);
            const others = pool.map(slowSquare, [1, 2, 3, 4, 5, 6], { chunksize: 1 });
            const deadline = Date.now() + 30_000;
            while (!existsSync(file) && Date.now() < deadline) await sleepMs(20);
            const pid = Number(readFileSync(file, 'utf8'));
            process.kill(pid, 'SIGKILL');
            await assert.rejects(victimTask, (e: Error) => {
              assert.equal(e.name, 'WorkerDiedError');
              assert.match(e.message, new RegExp(`pid ${pid}.*SIGKILL`));
              return true;
            });
            assert.deepEqual(await others, [1, 4, 9, 16, 25, 36]);
          }
          assert.equal(await pool.apply(add, [2, 2]), 4);
        });

        it('process.exit() in a task fails that task; an unserialisable result is a clear error', async () => {
          await using pool = new Pool({ processes: 1, context: method });
          await assert.rejects(pool.apply(exitNow, [5]), (e: Error) => e.name === 'WorkerDiedError' && /code 5/.test(e.message));
          // Python's Pool: MaybeEncodingError, whose `exc` is the PicklingError naming what could not cross.
          await assert.rejects(
            pool.apply(returnsFunction),
            (e: Error & { exc?: string }) => e.name === 'MaybeEncodingError' && /Error sending result/.test(e.message) && /PicklingError/.test(e.exc ?? ''),
          );
          assert.equal(await pool.apply(add, [1, 1]), 2);
        });

        it('a worker failing at start-up fails the pool instead of respawning forever', async () => {
          await quietly(async () => {
            await using pool = new Pool({ processes: 1, context: method, initializer: failInit });
            await assert.rejects(pool.apply(add, [1, 1]), (e: Error) => /while starting, 3 times/.test(e.message));
          });
        });
      }
    });
  }

  for (const method of ['spawn', 'thread', 'forkserver'] as const) {
    describe(`Pool.imap (${method})`, { timeout: 90_000 }, () => {
      function* failingAtFour(pulled: number[] = []): Generator<number> {
        for (let i = 0; ; i++) {
          if (i === 3) throw new RangeError('the source failed at its fourth item');
          pulled.push(i);
          yield i;
        }
      }
      function* naturals(pulled: number[]): Generator<number> {
        for (let i = 0; ; i++) {
          pulled.push(i);
          yield i;
        }
      }

      it('imap and imapUnordered yield the results before a failing source item, then its error', async () => {
        await using pool = new Pool({ processes: 2, context: method });
        const seen: number[] = [];
        await assert.rejects(
          async () => {
            for await (const v of pool.imap(square, failingAtFour())) seen.push(v);
          },
          (e: Error) => e instanceof RangeError && /fourth item/.test(e.message),
        );
        assert.deepEqual(seen, [0, 1, 4]);
        const unordered: number[] = [];
        await assert.rejects(async () => {
          for await (const v of pool.imapUnordered(square, failingAtFour(), { chunksize: 1 })) unordered.push(v);
        }, RangeError);
        assert.ok(
          unordered.every((v) => [0, 1, 4].includes(v)),
          String(unordered),
        );
      });

      it('an infinite source streams, pulled only a bounded distance ahead of the consumer', async () => {
        await using pool = new Pool({ processes: 2, context: method });
        const pulled: number[] = [];
        const out: number[] = [];
        for await (const v of pool.imap(square, naturals(pulled))) {
          out.push(v);
          if (out.length === 10) break;
        }
        assert.deepEqual(out, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
        await sleepMs(200);
        assert.ok(pulled.length < 1000, `pulled ${pulled.length} items for 10 results`);
        assert.equal(await pool.apply(add, [1, 2]), 3);
      });

      it('next({ timeout }) rejects TimeoutError and the iterator goes on; close() then join() still delivers every result', async () => {
        const pool = new Pool({ processes: 1, context: method });
        const it = pool.imap(nap, [1500, 0]);
        await assert.rejects(it.next({ timeout: 50 }), TimeoutError);
        await assert.rejects(it.next(-1), TimeoutError);
        assert.throws(() => it.next({ timeout: Number.NaN }), TypeError);
        assert.equal(typeof (await it.next(20_000)).value, 'string');
        const later = pool.imap(square, [1, 2, 3], { chunksize: 1 });
        pool.close();
        await pool.join();
        const rest: number[] = [];
        for await (const v of later) rest.push(v);
        assert.deepEqual(rest, [1, 4, 9]);
        assert.equal((await it.next()).done, false);
      });
    });

    describe(`values across processes (${method})`, { timeout: 90_000 }, () => {
      it('an exported Error subclass comes back as its own class; a hidden one as RemoteError', async () => {
        await using pool = new Pool({ processes: 1, context: method });
        await assert.rejects(pool.apply(throwInsufficient, [5]), (e: Error) => {
          assert.ok(e instanceof InsufficientFunds, `not InsufficientFunds: ${e}`);
          assert.equal(e.name, 'InsufficientFunds');
          assert.equal(e.message, 'needs 5 more');
          assert.match(e.stack ?? '', /throwInsufficient/);
          return true;
        });
        await assert.rejects(pool.apply(throwHidden, []), (e: Error) => {
          assert.ok(e instanceof RemoteError);
          assert.equal(e.name, 'Hidden'); // DESIGN.md: a child's error keeps its name
          assert.equal((e as RemoteError).remoteName, 'Hidden');
          assert.equal(e.message, 'not exported');
          assert.match(e.stack ?? '', /throwHidden/);
          return true;
        });
        await using executor = new ProcessPoolExecutor({ maxWorkers: 1, context: method });
        await assert.rejects(executor.submit(throwInsufficient, 1).result(), InsufficientFunds);
        // Every class of the runtime's error table comes back as itself (test/unit/errors.test.ts: the broker's crossing).
        for (const name of errorClassNames(forkscope)) await assert.rejects(pool.apply(throwSample, [name]), crossedAs(forkscope, name));
      });

      it('an exported function crosses by reference as an argument and a result; a closure is a PicklingError naming its path', async () => {
        await using pool = new Pool({ processes: 1, context: method });
        assert.equal(await pool.apply(callIt, [double, 21]), 42);
        assert.deepEqual(
          await pool.starmap(callIt, [
            [double, 1],
            [double, 2],
          ]),
          [2, 4],
        );
        assert.equal(await pool.apply(giveDouble, []), double);
        const k = 3;
        await assert.rejects(
          // forkscope-disable-next-line unserialisable-argument
          pool.apply(callIt, [(x: number) => x * k, 1]),
          (e: Error) => e instanceof PicklingError && /args\[0\]\[0\] is a function .*export/.test(e.message),
        );
        await using executor = new ProcessPoolExecutor({ maxWorkers: 1, context: method });
        assert.equal(await executor.submit(callIt, double, 4), 8);
        const file = join(dir, `call-${method}`);
        const p = new Process({ target: writeCall, args: [file, double, 7], startMethod: method });
        p.start();
        await p.join();
        assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { result: 14, same: true });
      });

      it('an exported function crosses a Queue and a Pipe by reference', async () => {
        const inbox = new Queue();
        const outbox = new Queue();
        const p = new Process({ target: callFromQueue, args: [inbox, outbox], startMethod: method });
        p.start();
        await inbox.put(double);
        assert.deepEqual(await outbox.get({ timeout: 30_000 }), { result: 10, same: true });
        await p.join();
        const [a, b] = Pipe();
        a.send(double);
        assert.equal(await b.recv(), double);
        assert.throws(() => a.send({ cb: () => 1 }), PicklingError);
        a.close();
        b.close();
        inbox.close();
        outbox.close();
      });
    });

    describe(`Pool dispatch (${method})`, { timeout: 90_000 }, () => {
      it("close() then join() waits for a running task without spinning the parent's CPU", async () => {
        const pool = new Pool({ processes: 1, context: method });
        await pool.apply(echo, [1]);
        const task = pool.apply(nap, [1500]);
        // Event-loop utilisation, not CPU time: on a loaded machine a spinning loop gets little CPU but never idles.
        const before = performance.eventLoopUtilization();
        pool.close();
        await pool.join();
        await task;
        const { utilization } = performance.eventLoopUtilization(before);
        assert.ok(utilization < 0.5, `the parent's event loop was busy ${Math.round(utilization * 100)}% of the wait`);
      });

      it('lists its workers in activeChildren() while they live, none once terminated and joined', async () => {
        const pool = new Pool({ processes: 2, context: method });
        // Both workers up and answering, whichever takes the quick tasks first.
        for (let seen = new Set<string>(); seen.size < 2; ) for (const pid of await pool.map(nap, [5, 5, 5, 5], { chunksize: 1 })) seen.add(pid);
        const listed = activeChildren();
        assert.equal(listed.length, 2, listed.map((p) => p.name).join(', '));
        for (const p of listed) {
          assert.match(p.name, /PoolWorker-\d+$/);
          assert.equal(p.isAlive(), true);
          assert.equal(p.daemon, true);
        }
        pool.terminate();
        await pool.join();
        assert.deepEqual(activeChildren(), []);
      });

      it('an idle worker takes the next task: short naps do not queue behind a long one', async () => {
        await using pool = new Pool({ processes: 2, context: method });
        // A few quick tasks first, so the pool has measured its workers as fast.
        await pool.map(
          echo,
          Array.from({ length: 40 }, (_, i) => i),
          { chunksize: 1 },
        );
        // Both workers up: on a loaded machine the second may still be booting after the quick tasks, and then the
        // one that is up rightly takes everything.
        for (let seen = new Set<string>(); seen.size < 2; ) for (const pid of await pool.map(nap, [5, 5, 5, 5], { chunksize: 1 })) seen.add(pid);
        const t0 = Date.now();
        const long = pool.applyAsync(nap, [1000]);
        const shorts = [0, 1, 2].map(() => pool.applyAsync(nap, [50]).then((pid) => ({ pid, at: Date.now() - t0 })));
        const done = await Promise.all(shorts);
        const longPid = await long;
        const longAt = Date.now() - t0;
        for (const s of done) {
          assert.notEqual(s.pid, longPid, `a short nap ran on the busy worker: ${JSON.stringify(done)}`);
          assert.ok(s.at < longAt, `a short nap waited for the long one: ${JSON.stringify(done)} vs ${longAt}`);
        }
      });
    });
  }
}
