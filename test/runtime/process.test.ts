// Process over every start method: start/join/exitCode/names/subclass fields/errors, with real children.
// Children re-import this file as their main module, so every test is registered only in the main process.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Process, activeChildren, isMainProcess, currentProcess, cpuCount, getAllStartMethods } from 'forkscope';
import { recordWho, throwCustom, exitNow, sleepMs, spin, Recorder, nested, square, record } from '../fixtures/runtime-tasks';
import { quietly } from './runProgram';
import { processFacts, writeProcessFacts } from '../fixtures/pool-tasks';
import { Pool } from 'forkscope';

const dir = isMainProcess() ? mkdtempSync(join(tmpdir(), 'forkscope-process-')) : '';
let fileNo = 0;
const newFile = (): string => join(dir, `out-${fileNo++}.txt`);
const lines = (file: string): unknown[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown)
    : [];

if (isMainProcess()) {
  after(() => {
    assert.deepEqual(activeChildren(), [], 'a test left a child running');
    rmSync(dir, { recursive: true, force: true });
  });

  describe('Process basics', () => {
    it('names processes Process-N and knows the main process', () => {
      assert.equal(currentProcess().name, 'MainProcess');
      const p = new Process({ target: square, args: [2] });
      assert.match(p.name, /^Process-\d+$/);
      assert.equal(p.exitCode, null);
      assert.equal(p.isAlive(), false);
      assert.ok(cpuCount() >= 1);
      assert.deepEqual(getAllStartMethods().sort(), ['forkserver', 'inline', 'spawn', 'thread']);
    });

    it('currentProcess() in the main process is one MainProcess object with the whole Process interface', async () => {
      const main = currentProcess();
      assert.equal(currentProcess(), main);
      assert.ok(main instanceof Process);
      assert.equal(main.name, 'MainProcess');
      assert.equal(main.pid, process.pid);
      assert.equal(main.ident, process.pid);
      assert.equal(main.isAlive(), true);
      assert.equal(main.daemon, false);
      assert.equal(main.exitCode, null);
      assert.ok(Buffer.isBuffer(main.authkey) && main.authkey.length === 32);
      assert.deepEqual(new Process({ target: square }).authkey, main.authkey);
      await assert.rejects(main.join(), { name: 'AssertionError' });
      assert.throws(() => main.start(), { name: 'AssertionError' });
      main.name = 'Renamed';
      assert.equal(currentProcess().name, 'Renamed');
      main.name = 'MainProcess';
    });

    it('refuses a closure at start(), naming it and saying to export it', () => {
      const k = 2;
      // The closure is the point: start() must refuse it.
      // forkscope-disable-next-line unfindable-target
      const p = new Process({ target: (x: number) => x * k, args: [1] });
      assert.throws(() => p.start(), { name: 'PicklingError', message: /export/ });
    });

    it('names the path of an argument that cannot cross', () => {
      const p = new Process({ target: record, args: ['x', { callback: () => 1 }] });
      assert.throws(() => p.start(), { name: 'PicklingError', message: /^args\[1\]\.callback is a function/ });
    });

    it('join() before start() is an AssertionError; start() twice too', async () => {
      const p = new Process({ target: square, args: [1], startMethod: 'inline' });
      await assert.rejects(p.join(), { name: 'AssertionError' });
      p.start();
      assert.throws(() => p.start(), { name: 'AssertionError' });
      await p.join();
      assert.equal(p.exitCode, 0);
      p.close();
      assert.throws(() => p.start(), { name: 'ValueError' });
    });
  });

  for (const method of ['spawn', 'thread', 'forkserver', 'inline'] as const) {
    describe(`Process (${method})`, { timeout: 60_000 }, () => {
      it("currentProcess() in a child and in a pool worker is its own live object, with the parent's authkey", async () => {
        const file = newFile();
        const p = new Process({ target: writeProcessFacts, args: [file], startMethod: method });
        p.start();
        await p.join();
        assert.equal(p.exitCode, 0);
        const facts = JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof processFacts>;
        assert.deepEqual(
          { ...facts, pid: undefined },
          { name: p.name, alive: true, same: true, authkey: currentProcess().authkey.toString('hex'), pid: undefined },
        );
        await using pool = new Pool({ processes: 1, context: method });
        const worker = await pool.apply(processFacts, []);
        // Inline pools run their tasks in this process.
        assert.match(worker.name, method === 'inline' ? /^MainProcess$/ : /PoolWorker-\d+/);
        assert.equal(worker.alive, true);
        assert.equal(worker.same, true);
        assert.equal(worker.authkey, currentProcess().authkey.toString('hex'));
      });

      it('runs the target in a child that is not the main process, and exits 0', async () => {
        const file = newFile();
        const p = new Process({ target: recordWho, args: [file], startMethod: method });
        p.start();
        assert.equal(p.isAlive(), true);
        await p.join();
        assert.equal(p.exitCode, 0);
        assert.equal(p.isAlive(), false);
        const [who] = lines(file) as Array<{ pid: number; name: string; main: boolean; parent: string }>;
        assert.equal(who.name, p.name);
        assert.equal(who.main, false);
        assert.equal(who.parent, 'MainProcess');
        if (method === 'spawn' || method === 'forkserver') {
          assert.notEqual(who.pid, process.pid);
          assert.equal(who.pid, p.pid);
        } else assert.equal(who.pid, process.pid);
      });

      it('exitCode is 1 after an uncaught error, n after process.exit(n)', async () => {
        const p = new Process({ target: throwCustom, args: ['bad'], startMethod: method });
        await quietly(async () => {
          p.start();
          await p.join();
        });
        assert.equal(p.exitCode, 1);
        if (method !== 'inline') {
          const q = new Process({ target: exitNow, args: [7], startMethod: method });
          q.start();
          await q.join();
          assert.equal(q.exitCode, 7);
        }
      });

      it('a subclass runs its own run() with its fields (a Map included)', async () => {
        const r = new Recorder({ startMethod: method });
        r.file = newFile();
        r.payload = new Map([['a', 1]]);
        r.start();
        await r.join();
        assert.equal(r.exitCode, 0);
        assert.deepEqual(lines(r.file), [{ name: r.name, payload: [['a', 1]], main: false, isRecorder: true }]);
      });

      if (method !== 'inline') {
        it('join({ timeout }) resolves while the child still runs; terminate() gives -SIGTERM', async () => {
          const p = new Process({ target: spin, startMethod: method });
          p.start();
          const t0 = Date.now();
          await p.join({ timeout: 200 });
          assert.ok(Date.now() - t0 >= 150);
          assert.equal(p.isAlive(), true);
          assert.equal(p.exitCode, null);
          assert.throws(() => p.close(), { name: 'ValueError' });
          p.terminate();
          await p.join();
          assert.equal(p.exitCode, -15);
        });

        it('kill() gives -SIGKILL', async () => {
          const p = new Process({ target: sleepMs, args: [30_000], startMethod: method });
          p.start();
          p.kill();
          await p.join();
          assert.equal(p.exitCode, -9);
        });

        it('names a grandchild Process-N:M', async () => {
          const file = newFile();
          const p = new Process({ target: nested, args: [file], startMethod: method });
          p.start();
          await p.join();
          assert.equal(p.exitCode, 0);
          const [inner, outer] = lines(file) as Array<{ name?: string; outer?: string; parent?: string }>;
          assert.equal(outer.outer, p.name);
          assert.match(inner.name!, new RegExp(`^${p.name}:1$`));
          assert.equal(inner.parent, p.name);
        });
      }
    });
  }
}
