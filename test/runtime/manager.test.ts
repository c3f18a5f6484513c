// Manager(): Python's SyncManager types behind promise proxies, used from child processes and threads;
// a dead manager rejects pending calls at once; a manager dies with its parent; a dead client's lock
// goes to the next waiter. Children re-import this file, so tests register in the main process only.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaseManager, Manager, Process, isMainProcess, activeChildren, type SyncManager } from 'forkscope';
import { addUnderLock, holdForever, Maths, makeGreeter } from '../fixtures/shm-manager-tasks';
import { isAlive, waitUntil } from './waiting';
import { runProgram } from './runProgram';

class MathsManager extends BaseManager {}
MathsManager.register('Maths', Maths);
MathsManager.register('Greeter', makeGreeter);

if (isMainProcess()) {
  describe('Manager', () => {
    let manager: SyncManager;
    before(async () => {
      manager = await Manager();
    });
    after(async () => {
      const pid = manager.pid!;
      await manager.shutdown();
      assert.equal(isAlive(pid), false, 'the manager process is gone after shutdown()');
      assert.deepEqual(activeChildren(), []);
    });

    it('dict() has Python methods plus get/set/len', async () => {
      const d = await manager.dict<number | string>({ a: 1 });
      await d.set('b', 2);
      await d.set(3, 'three');
      assert.equal(await d.get('a'), 1);
      assert.equal(await d.get('missing', 'dflt'), 'dflt');
      assert.equal(await d.len(), 3);
      assert.deepEqual(await d.items(), [
        ['a', 1],
        ['b', 2],
        [3, 'three'],
      ]);
      assert.equal(await d.pop('a'), 1);
      await assert.rejects(d.pop('a'), { name: 'KeyError' });
      assert.equal(await d.setdefault('c', 9), 9);
      assert.deepEqual(await d.copy(), { b: 2, 3: 'three', c: 9 });
      await assert.rejects(d._callMethod('constructor'), { name: 'AttributeError' });
      assert.equal((d as unknown as Record<string, unknown>).setdefaultt, undefined, 'a proxy has only the exposed methods');
    });

    it('list() keeps order and raises IndexError/ValueError as Python', async () => {
      const l = await manager.list([3, 1, 2]);
      await l.append(0);
      await l.sort();
      assert.deepEqual(await l.copy(), [0, 1, 2, 3]);
      await l.reverse();
      assert.equal(await l.get(-1), 0);
      assert.equal(await l.pop(), 0);
      await assert.rejects(l.get(10), { name: 'IndexError' });
      await assert.rejects(l.remove(42), { name: 'ValueError' });
      assert.equal(await l.len(), 3);
    });

    it('Namespace() uses attributes; Value()/Array() proxies get and set', async () => {
      const ns = await manager.Namespace();
      ns.x = 1;
      ns.y = { deep: [1, 2] };
      assert.equal(await ns.x, 1);
      assert.deepEqual(await ns.y, { deep: [1, 2] });
      delete ns.x;
      await assert.rejects(ns.x, { name: 'AttributeError' });
      const v = await manager.Value('i', 5);
      v.value = 6;
      assert.equal(await v.value, 6);
      await v.set(7);
      assert.equal(await v.get(), 7);
      const a = await manager.Array('i', [1, 2, 3]);
      await a.set(0, 10);
      assert.deepEqual(await a.copy(), [10, 2, 3]);
    });

    it('Queue(), JoinableQueue(): timeouts reject Empty/Full', async () => {
      const q = await manager.Queue(1);
      await q.put('a');
      await assert.rejects(q.put('b', { timeout: 50 }), { name: 'Full' });
      assert.equal(await q.full(), true);
      assert.equal(await q.get(), 'a');
      await assert.rejects(q.get({ timeout: 50 }), { name: 'Empty' });
      await assert.rejects(q.getNowait(), { name: 'Empty' });
      const jq = await manager.JoinableQueue();
      await jq.put(1);
      const joined = jq.join();
      await jq.get();
      await jq.taskDone();
      await joined;
      await assert.rejects(jq.taskDone(), { name: 'ValueError' });
    });

    it('Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Barrier keep Python semantics', async () => {
      const lock = await manager.Lock();
      assert.equal(await lock.acquire(), true);
      assert.equal(await lock.acquire({ timeout: 50 }), false);
      assert.equal(await lock.acquire({ block: false }), false);
      await lock.release();
      await assert.rejects(lock.release(), { name: 'RuntimeError' });
      const rlock = await manager.RLock();
      assert.equal(await rlock.acquire(), true);
      assert.equal(await rlock.acquire(), true);
      await rlock.release();
      await rlock.release();
      const bs = await manager.BoundedSemaphore(1);
      await assert.rejects(bs.release(), { name: 'ValueError' });
      const sem = await manager.Semaphore(0);
      assert.equal(await sem.acquire({ timeout: 30 }), false);
      const event = await manager.Event();
      assert.equal(await event.wait({ timeout: 30 }), false);
      const waited = event.wait({ timeout: 5000 });
      await event.set();
      assert.equal(await waited, true);
      const cond = await manager.Condition();
      // Released two lines down; a failed assertion ends the test anyway.
      // forkscope-disable-next-line unreleased-lock
      await cond.acquire();
      assert.equal(await cond.wait({ timeout: 30 }), false);
      await cond.release();
      const barrier = await manager.Barrier(2);
      assert.equal(await barrier.parties, 2);
      const both = await Promise.all([barrier.wait(), barrier.wait()]);
      assert.deepEqual(both.sort(), [0, 1]);
      await assert.rejects(barrier.wait({ timeout: 50 }), { name: 'BrokenBarrierError' });
      assert.equal(await barrier.broken, true);
    });

    it('a proxy stored in a dict comes back as a working proxy', async () => {
      const d = await manager.dict();
      const q = await manager.Queue();
      await d.set('queue', q);
      const again = (await d.get('queue')) as typeof q;
      await again.put('through the copy');
      assert.equal(await q.get({ timeout: 5000 }), 'through the copy');
    });

    for (const startMethod of ['spawn', 'thread'] as const) {
      it(`proxies work in children (${startMethod}): a counter under a manager Lock stays exact`, async () => {
        const lock = await manager.Lock();
        const counter = await manager.Value('i', 0);
        const children = [1, 2].map(() => new Process({ target: addUnderLock, args: [lock, counter, 20], startMethod }));
        for (const child of children) child.start();
        for (const child of children) await child.join({ timeout: 60_000 });
        assert.deepEqual(
          children.map((c) => c.exitCode),
          [0, 0],
        );
        assert.equal(await counter.value, 40);
      });
    }

    it("a killed client's lock goes to the next waiter, and its pending get takes no item", async () => {
      const lock = await manager.Lock();
      const ready = await manager.Queue();
      const inbox = await manager.Queue();
      const child = new Process({ target: holdForever, args: [lock, ready, inbox] });
      child.start();
      try {
        assert.equal(await ready.get({ timeout: 60_000 }), 'holding');
        assert.equal(await lock.acquire({ block: false }), false);
        child.kill();
        assert.equal(await lock.acquire({ timeout: 10_000 }), true);
        await lock.release();
        await inbox.put('for the living');
        assert.equal(await inbox.get({ timeout: 5000 }), 'for the living');
      } finally {
        child.kill();
        await child.join({ timeout: 10_000 });
      }
    });
  });

  describe('BaseManager.register() with start()', () => {
    it('serves a registered class and factory from its own process', async () => {
      const manager = await new MathsManager().start();
      const pid = manager.pid!;
      try {
        assert.notEqual(pid, process.pid);
        const maths = await manager.create<{ add(x: number, y: number): Promise<number>; mul(x: number, y: number): Promise<number> }>('Maths');
        assert.equal(await maths.add(1, 2), 3);
        assert.equal(await maths.mul(6, 7), 42);
        const greeter = await (manager as unknown as { Greeter(name: string): Promise<{ greet(): Promise<string> }> }).Greeter('forkscope');
        assert.equal(await greeter.greet(), 'hello forkscope');
      } finally {
        await manager.shutdown();
      }
      assert.equal(await waitUntil(() => !isAlive(pid), 10_000), true, 'its process is gone after shutdown()');
    });
  });

  describe('SyncManager.Pool', () => {
    it("serves a Pool from the manager's process: the main module's functions cross by reference, the program runs once", { timeout: 150_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'forkscope-manager-pool-'));
      try {
        const log = join(dir, 'runs');
        // The program's main branch logs each run and stops at a second one, so a regression cannot fork-bomb.
        const run = await runProgram('test/fixtures/manager-pool.ts', { env: { MANAGER_POOL_LOG: log }, deadlineMs: 120_000 });
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.deepEqual(run.stdout.trim().split('\n'), [
          'map [1,8,27]',
          'starmap [3,7]',
          'applyAsync 5 true true',
          'mapAsync [8,27]',
          'imap [64,125,216]',
          'imapUnordered false true',
          'apply error RangeError no',
          'workers are not this process nor the manager true',
          'child 0',
          'after terminate ValueError',
          'done',
        ]);
        assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, 1, 'the program ran once');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('Manager failures', () => {
    it('a manager killed with SIGKILL rejects pending calls at once, and later calls too', async () => {
      const manager = await Manager();
      const q = await manager.Queue();
      const pending = q.get();
      const started = Date.now();
      process.kill(manager.pid!, 'SIGKILL');
      await assert.rejects(pending, { name: 'EOFError' });
      assert.ok(Date.now() - started < 2000, 'rejected quickly');
      await assert.rejects(q.qsize(), { name: /^Connection(Refused|Reset)Error$/ });
      await manager.shutdown();
    });

    it('under FORKSCOPE_SINGLE_PROCESS=1 the manager serves from the program itself', async () => {
      const fixture = join(__dirname, '..', 'fixtures', 'shm-manager-tasks.ts');
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, 'single-process'], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, FORKSCOPE_SINGLE_PROCESS: '1' },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await new Promise((resolve) => child.on('exit', resolve));
      clearTimeout(timer);
      assert.equal(code, 0);
      assert.deepEqual(JSON.parse(out), { pid: null, value: 'v' });
    });

    it('a manager exits when the process that started it is killed', async () => {
      const fixture = join(__dirname, '..', 'fixtures', 'shm-manager-tasks.ts');
      const parent = spawn(process.execPath, ['--import', 'tsx', fixture, 'start-and-wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const pid = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('the fixture never started its manager')), 60_000);
          let out = '';
          parent.stdout.on('data', (d: Buffer) => {
            out += d;
            const match = /manager (\d+)/.exec(out);
            if (match) {
              clearTimeout(timer);
              resolve(Number(match[1]));
            }
          });
        });
        assert.equal(isAlive(pid), true);
        parent.kill('SIGKILL');
        assert.equal(await waitUntil(() => !isAlive(pid), 10_000), true, 'the orphaned manager exited');
      } finally {
        parent.kill('SIGKILL');
      }
    });
  });
}
