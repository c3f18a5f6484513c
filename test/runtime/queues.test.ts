import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, SimpleQueue, JoinableQueue, Empty, Full } from '../../runtime/src/index';
import { start, killAll, sleep } from '../fixtures/sync-harness';
import type { StartMethod } from '../../runtime/src/protocol';

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
