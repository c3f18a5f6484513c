import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, SimpleQueue, JoinableQueue, Empty, Full } from '../../runtime/src/index';
import { start, killAll, sleep } from '../fixtures/sync-harness';
import { runProgram } from './runProgram';
import type { StartMethod } from '../../runtime/src/protocol';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canShareQueues, LOCK_WORDS, QueueMemory } from '../../runtime/src/shm/queueMemory';
import { shmBinding } from '../../runtime/src/shm/binding';

after(async () => {
  assert.equal(await killAll(), 0, 'a test left a child running');
});

describe('Queue (in this process)', () => {
  it('get() waits for put() and keeps FIFO order', async () => {
    const q = new Queue<number>();
    const got = q.get();
    await q.put(1);
    await q.put(2);
    assert.equal(await got, 1);
    assert.equal(await q.get(), 2);
  });

  it('clones items: Map, Set, Date, BigInt cross; later mutation does not', async () => {
    const q = new Queue<unknown>();
    const item = { m: new Map([[1, 'a']]), s: new Set([2]), d: new Date(5), b: 10n };
    await q.put(item);
    item.m.set(3, 'c');
    const back = (await q.get()) as typeof item;
    assert.deepEqual(back, { m: new Map([[1, 'a']]), s: new Set([2]), d: new Date(5), b: 10n });
  });

  it('get() rejects Empty on timeout and with block: false', async () => {
    const q = new Queue();
    await assert.rejects(q.get({ timeout: 20 }), Empty);
    await assert.rejects(q.getNowait(), (e: Error) => e.name === 'Empty');
  });

  it('put() on a full bounded queue waits for room, or rejects Full', async () => {
    const q = new Queue<number>({ maxsize: 2 });
    await q.put(1);
    await q.put(2);
    assert.equal(q.full(), true);
    await assert.rejects(q.putNowait(3), Full);
    await assert.rejects(q.put(3, { timeout: 20 }), Full);
    const pending = q.put(4);
    assert.equal(await q.get(), 1);
    await pending;
    assert.deepEqual([await q.get(), await q.get()], [2, 4]);
    assert.equal(q.empty(), true);
    assert.equal(q.qsize(), 0);
  });

  it('JoinableQueue.join() waits for every taskDone()', async () => {
    const q = new JoinableQueue<number>();
    await q.put(1);
    await q.put(2);
    let joined = false;
    const join = q.join().then(() => (joined = true));
    await q.get();
    q.taskDone();
    await sleep(5);
    assert.equal(joined, false);
    await q.get();
    q.taskDone();
    await join;
    assert.throws(() => q.taskDone(), { name: 'ValueError' });
  });

  it('get()/put() read { block, timeout } through readTimeout: NaN and strings are TypeErrors, negative does not wait', async () => {
    const q = new Queue<number>({ maxsize: 1 });
    assert.throws(() => q.get({ timeout: NaN }), TypeError);
    assert.throws(() => q.get({ timeout: '5' as unknown as number }), TypeError);
    assert.throws(() => q.put(1, { timeout: NaN }), TypeError);
    const started = Date.now();
    await assert.rejects(q.get({ timeout: -1 }), Empty);
    await q.put(1);
    await assert.rejects(q.put(2, { timeout: -5 }), Full);
    assert.ok(Date.now() - started < 1000);
    q.close();
    await assert.rejects(
      async () => q.get(),
      (e: Error) => e.name === 'ValueError',
    );
  });

  it('JoinableQueue.taskDone() called too often throws ValueError', () => {
    const q = new JoinableQueue<number>();
    assert.throws(
      () => q.taskDone(),
      (e: Error) => e.name === 'ValueError',
    );
  });

  it('SimpleQueue puts and gets', async () => {
    const q = new SimpleQueue<string>();
    assert.equal(q.empty(), true);
    await q.put('x');
    assert.equal(q.empty(), false);
    assert.equal(await q.get(), 'x');
  });
});

for (const method of ['spawn', 'thread'] as StartMethod[]) {
  describe(`Queue across a ${method === 'spawn' ? 'process' : 'worker thread'}`, () => {
    it('a child puts, this process gets, in order', { timeout: 20_000 }, async () => {
      const q = new Queue<number>();
      const child = start('queue-put', [q], [500], method);
      for (let i = 0; i < 500; i++) assert.equal(await q.get(), i);
      assert.equal((await child.outcome).result, 500);
    });

    it('a child gets what this process puts; Map and BigInt cross', { timeout: 20_000 }, async () => {
      const q = new Queue<unknown>();
      const child = start('queue-get', [q], [2], method);
      await q.put(new Map([['k', 1n]]));
      await q.put('second');
      const { result } = await child.outcome;
      assert.deepEqual(result, [new Map([['k', 1n]]), 'second']);
    });

    it('qsize() is readable synchronously in the child', { timeout: 20_000 }, async () => {
      const q = new Queue<number>();
      await q.put(1);
      await q.put(2);
      await q.put(3);
      const child = start('qsize', [q], [], method);
      assert.equal((await child.outcome).result, 3);
    });

    it('JoinableQueue: join() returns after the child marked every item done', { timeout: 20_000 }, async () => {
      const q = new JoinableQueue<number | null>();
      const child = start('queue-work', [q], [], method);
      for (let i = 1; i <= 100; i++) await q.put(i);
      await q.put(null);
      await q.join();
      assert.equal((await child.outcome).result, 5050);
    });
  });
}

describe('Queue failures', () => {
  it('a producer killed mid-put of a large item never hands over a partial item', { timeout: 60_000 }, async () => {
    const q = new Queue<Uint8Array>();
    const bytes = 16 * 1024 * 1024;
    const producer = start('queue-put-huge', [q], [bytes], 'spawn');
    await producer.signalled('ready');
    await sleep(150); // mid-way through a write, most likely
    await producer.kill();
    let items = 0;
    for (;;) {
      let item: Uint8Array;
      try {
        item = await q.get({ timeout: 1000 });
      } catch (error) {
        assert.equal((error as Error).name, 'Empty');
        break;
      }
      assert.equal(item.length, bytes);
      assert.equal(item[0], 7);
      assert.equal(item[bytes - 1], 7);
      items++;
    }
    assert.ok(items >= 1, 'the item put before the kill arrives whole');
  });

  it('a consumer killed mid-get does not take the next item with it', { timeout: 30_000 }, async () => {
    const q = new Queue<string>();
    const consumer = start('queue-get-forever', [q], [], 'spawn');
    await consumer.signalled('ready');
    await sleep(300); // its get() has reached the owner
    await consumer.kill();
    await q.put('survivor');
    assert.equal(await q.get({ timeout: 5000 }), 'survivor');
  });

  it('joining a child that put 10,000 items before anything was drained does not deadlock', { timeout: 60_000 }, async () => {
    const q = new Queue<number>();
    const producer = start('queue-put', [q], [10_000], 'spawn');
    const outcome = await producer.outcome; // the child exits with its items still queued
    assert.equal(outcome.result, 10_000);
    assert.equal(outcome.exit?.code, 0);
    assert.equal(q.qsize(), 10_000);
    for (let i = 0; i < 10_000; i++) assert.equal(await q.get(), i);
  });

  for (const method of ['spawn', 'thread'] as StartMethod[]) {
    it(`a ${method} producer that exits right after its last put, its reader stalling, delivers every item in order`, { timeout: 90_000 }, async () => {
      const run = await runProgram('test/fixtures/queue-exit.ts', { args: ['60000', method], deadlineMs: 80_000 });
      assert.equal(run.stdout.trim(), 'ok 60000 exit 0', run.stderr);
      assert.equal(run.code, 0);
    });
  }

  for (const method of ['spawn', 'thread'] as StartMethod[]) {
    for (const mode of ['freeze', 'run']) {
      const when = mode === 'freeze' ? 'frozen in the tick its last counted put resolved' : 'while it keeps putting';
      // Without the native binding a counter cannot cross into a process; the thread runs still cover that path.
      const skip = method === 'spawn' && process.env.FORKSCOPE_SHM_BINDING === 'none' ? 'no shared counter across processes without the binding' : false;
      it(`a ${method} producer killed ${when} delivers every put that resolved, in order, once, whole`, { timeout: 90_000, skip }, async () => {
        const run = await runProgram('test/fixtures/queue-kill.ts', { args: [method, mode], deadlineMs: 80_000 });
        const [ok, counted, delivered] = run.stdout.trim().split(' ');
        assert.equal(ok, 'ok', run.stdout + run.stderr);
        assert.ok(Number(counted) >= 20_000 && Number(delivered) >= Number(counted), run.stdout);
        assert.equal(run.code, 0);
      });
    }
  }

  for (const method of ['spawn', 'thread'] as StartMethod[]) {
    it(`qsize()/empty()/full() in a ${method} child read its own put() at once, on every queue kind`, { timeout: 90_000 }, async () => {
      const run = await runProgram('test/fixtures/queue-stale.ts', { args: [method], deadlineMs: 80_000 });
      assert.equal(run.stdout.trim(), 'ok', run.stdout + run.stderr);
    });
  }

  it('an item answered to a consumer SIGKILLed before it read it is delivered again', { timeout: 90_000 }, async () => {
    const run = await runProgram('test/fixtures/queue-consumer-kill.ts', { deadlineMs: 80_000 });
    assert.equal(run.stdout.trim(), 'ok precious', run.stdout + run.stderr);
  });

  it('under a hub, the depth of a queue only a child filled is reported (by its creator)', { timeout: 90_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'forkscope-test-'));
    try {
      const snapshot = join(dir, 'snapshot.json');
      const cli = join(__dirname, '..', '..', 'runtime', 'bin', 'forkscope.js');
      const run = spawnSync(process.execPath, [cli, 'run', '--quiet', '--snapshot', snapshot, join(__dirname, '..', 'fixtures', 'queue-depth.ts')], {
        encoding: 'utf8',
        timeout: 80_000,
      });
      assert.equal(run.stdout.trim(), 'depth 100', run.stderr);
      const { queues } = JSON.parse(readFileSync(snapshot, 'utf8')) as { queues: Array<{ puts: number; depth: number }> };
      assert.deepEqual(
        queues.map((q) => [q.puts, q.depth]),
        [[100, 100]],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bounded queue holds a fast producer back (backpressure), and loses nothing', { timeout: 60_000 }, async () => {
    const q = new Queue<number>({ maxsize: 10 });
    const producer = start('queue-put', [q], [200], 'spawn');
    try {
      // The child's start-up takes seconds on a loaded machine: wait until it filled the queue, then
      // give it time to overfill it, which it must not.
      for (const deadline = Date.now() + 30_000; q.qsize() < 10 && Date.now() < deadline; ) await sleep(20);
      await sleep(500);
      assert.equal(q.qsize(), 10, 'the producer waits for room');
      assert.equal(q.full(), true);
      for (let i = 0; i < 200; i++) {
        assert.ok(q.qsize() <= 10);
        assert.equal(await q.get(), i);
      }
      assert.equal((await producer.outcome).result, 200);
    } finally {
      await producer.kill();
    }
  });

  for (const [method, kinds] of [
    ['spawn', ['Queue', 'JoinableQueue', 'SimpleQueue']],
    ['thread', ['Queue']],
  ] as [StartMethod, string[]][]) {
    for (const kind of kinds) {
      it(`4 producers and 4 consumers (${method}) on one ${kind}: every item once, each producer's in order`, { timeout: 120_000 }, async () => {
        const run = await runProgram('test/fixtures/queue-mpmc.ts', { args: [method, kind, '20000'], deadlineMs: 110_000 });
        assert.equal(run.stdout.trim(), 'ok 80000', run.stderr);
        assert.equal(run.code, 0);
      });
    }
  }
});

describe('Queue in shared memory', { skip: canShareQueues() ? false : 'no native binding' }, () => {
  /** Holds one of the queue's lock words as a live holder stalled inside put() or take() would (preempted, or paused). */
  function holdLock(memory: QueueMemory, which: keyof typeof LOCK_WORDS): () => void {
    const fd = openSync(`${memory.files.base}.ctl`, 'r+');
    const words = new Int32Array(shmBinding()!.map(fd, 64));
    closeSync(fd);
    // A live process's id that is not this context's own (pid 1 is always alive).
    Atomics.store(words, LOCK_WORDS[which], 1 << 8);
    return () => Atomics.store(words, LOCK_WORDS[which], 0);
  }

  it('put() does not wait for a consumer stalled inside take(), nor take() for a producer stalled inside put()', () => {
    const memory = QueueMemory.create();
    const write = (target: Buffer, offset: number, value: number) => target.writeUInt32LE(value, offset);
    assert.equal(memory.put(4, 1, write, 0), true);
    let release = holdLock(memory, 'head');
    let t = performance.now();
    assert.equal(memory.put(4, 2, write, 0), true);
    const putMs = performance.now() - t;
    release();
    release = holdLock(memory, 'tail');
    t = performance.now();
    assert.equal(memory.take()?.readUInt32LE(0), 1);
    const takeMs = performance.now() - t;
    release();
    assert.equal(memory.take()?.readUInt32LE(0), 2);
    // A held lock is taken over from a live holder only after seconds: these must not wait for that.
    assert.ok(putMs < 1000 && takeMs < 1000, `put ${putMs.toFixed(0)} ms, take ${takeMs.toFixed(0)} ms`);
  });
});
