import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Barrier, Queue, BrokenBarrierError } from '../../runtime/src/index';
import { start, killAll, sleep } from '../fixtures/sync-harness';
import type { StartMethod } from '../../runtime/src/protocol';

after(async () => {
  assert.equal(await killAll(), 0, 'a test left a child running');
});

describe('Lock and RLock (in this process)', () => {
  it('acquire() waits for release(); block: false and timeout resolve false', async () => {
    const lock = new Lock();
    assert.equal(await lock.acquire(), true);
    assert.equal(lock.locked(), true);
    assert.equal(await lock.acquire({ block: false }), false);
    assert.equal(await lock.acquire({ timeout: 20 }), false);
    const next = lock.acquire();
    lock.release();
    assert.equal(await next, true);
    lock.release();
    assert.equal(lock.locked(), false);
    assert.throws(() => lock.release(), { name: 'ValueError' });
  });

  it('using releases at the end of the block', async () => {
    const lock = new Lock();
    {
      await lock.acquire();
      using _held = lock;
      assert.equal(lock.locked(), true);
    }
    assert.equal(lock.locked(), false);
  });

  it('RLock is re-entrant and counts its releases', async () => {
    const rlock = new RLock();
    await rlock.acquire();
    await rlock.acquire();
    rlock.release();
    assert.equal(rlock.locked(), true);
    rlock.release();
    assert.equal(rlock.locked(), false);
    assert.throws(() => rlock.release(), { name: 'RuntimeError' });
  });
});

describe('Semaphore, Event, Condition, Barrier (in this process)', () => {
  it('Semaphore counts; BoundedSemaphore refuses an extra release', async () => {
    const sem = new Semaphore(2);
    assert.equal(await sem.acquire(), true);
    assert.equal(await sem.acquire(), true);
    assert.equal(await sem.acquire({ timeout: 10 }), false);
    sem.release(2);
    assert.equal(sem.getValue(), 2);
    assert.throws(() => sem.release(0), { name: 'ValueError' });
    assert.throws(() => sem.release(-1), { name: 'ValueError' });
    assert.equal(sem.getValue(), 2);
    const bounded = new BoundedSemaphore(1);
    assert.throws(() => bounded.release(), { name: 'ValueError' });
  });

  it('Event.wait() resolves true on set(), false on timeout', async () => {
    const event = new Event();
    assert.equal(await event.wait(10), false);
    const waited = event.wait();
    event.set();
    assert.equal(await waited, true);
    assert.equal(event.isSet(), true);
    event.clear();
    assert.equal(event.isSet(), false);
  });

  it('Condition.wait() releases the lock until notify(), and times out with false', async () => {
    const cond = new Condition();
    await cond.acquire();
    assert.equal(await cond.wait(10), false);
    const waited = cond.wait();
    await cond.acquire(); // the waiter released it
    cond.notify();
    cond.release();
    assert.equal(await waited, true);
    cond.release();
  });

  it('Barrier trips when all arrived, runs its action once, and breaks on timeout', async () => {
    let actions = 0;
    const barrier = new Barrier(3, { action: () => actions++ });
    const indexes = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
    assert.deepEqual(indexes.sort(), [0, 1, 2]);
    assert.equal(actions, 1);
    const lone = barrier.wait(20);
    await assert.rejects(lone, BrokenBarrierError);
    assert.equal(barrier.broken, true);
    barrier.reset();
    assert.equal(barrier.broken, false);
  });
});

for (const method of ['spawn', 'thread'] as StartMethod[]) {
  describe(`sync objects across a ${method === 'spawn' ? 'process' : 'worker thread'}`, () => {
    it('Lock: a child waits while this process holds it, and sees locked()', { timeout: 20_000 }, async () => {
      const lock = new Lock();
      await lock.acquire();
      const child = start('lock-try', [lock], [{ timeout: 300 }], method);
      assert.deepEqual((await child.outcome).result, [false, true, false]);
      lock.release();
      const again = start('lock-try', [lock], [{}], method);
      assert.deepEqual((await again.outcome).result, [true, true, false]);
      assert.equal(lock.locked(), false);
    });

    it('Lock: two children count to 2×n without losing an update', { timeout: 30_000 }, async () => {
      const lock = new Lock();
      const counter = new Queue<number>();
      await counter.put(0);
      const a = start('lock-count', [lock, counter], [50], method);
      const b = start('lock-count', [lock, counter], [50], method);
      await Promise.all([a.outcome, b.outcome]);
      assert.equal(await counter.get(), 100);
    });

    it('Event: a child spinning synchronously on isSet() sees set()', { timeout: 20_000 }, async () => {
      const event = new Event();
      const child = start('event-spin', [event], [], method);
      await child.signalled('ready');
      event.set();
      assert.equal((await child.outcome).result, true);
    });

    it('Event: a child set() wakes wait() here; a child wait() times out with false', { timeout: 20_000 }, async () => {
      const event = new Event();
      const waited = event.wait();
      const setter = start('event-set', [event], [], method);
      assert.equal(await waited, true);
      assert.equal((await setter.outcome).result, true);
      const other = new Event();
      assert.equal((await start('event-wait', [other], [50], method).outcome).result, false);
    });

    it('Condition: a child waits for notify() and reads the item', { timeout: 20_000 }, async () => {
      const cond = new Condition();
      const q = new Queue<number>();
      const child = start('cond-consume', [cond, q], [], method);
      await child.signalled('ready');
      await cond.acquire();
      await q.put(42);
      cond.notifyAll();
      cond.release();
      assert.equal((await child.outcome).result, 42);
    });

    it('Barrier: two children and this process pass together', { timeout: 20_000 }, async () => {
      const barrier = new Barrier(3);
      const a = start('barrier-wait', [barrier], [], method);
      const b = start('barrier-wait', [barrier], [], method);
      const mine = await barrier.wait();
      const results = [mine, (await a.outcome).result, (await b.outcome).result];
      assert.deepEqual(results.sort(), [0, 1, 2]);
    });

    it('Semaphore: a child holds one of two; getValue() is read across', { timeout: 20_000 }, async () => {
      const sem = new Semaphore(2);
      const child = start('sem-hold', [sem], [200], method);
      await child.signalled('ready');
      assert.equal(sem.getValue(), 1);
      assert.equal((await child.outcome).result, 1);
      assert.equal(sem.getValue(), 2);
    });
  });
}

describe('failures', () => {
  it('a lock whose holder is killed passes to the next waiter with ownerDied', { timeout: 20_000 }, async () => {
    const lock = new Lock();
    const holder = start('lock-hold', [lock], [], 'spawn');
    await holder.signalled('ready');
    assert.equal(lock.locked(), true);
    const next = lock.acquire({ timeout: 10_000 });
    await holder.kill();
    assert.equal(await next, true);
    assert.equal(lock.ownerDied, true);
    lock.release();
  });

  it('a barrier party killed while waiting breaks the barrier for the others', { timeout: 20_000 }, async () => {
    const barrier = new Barrier(3);
    const party = start('barrier-wait', [barrier], [], 'spawn');
    await party.signalled('ready');
    // Its wait must reach the owner before it dies: a fixed sleep lost that race on a loaded machine.
    for (const end = Date.now() + 15_000; barrier.nWaiting < 1 && Date.now() < end; ) await sleep(10);
    assert.equal(barrier.nWaiting, 1);
    const mine = assert.rejects(barrier.wait(), BrokenBarrierError);
    await party.kill();
    await mine;
  });
});
