// CPython's _TestQueue, TestSimpleQueue and TestStdinBadfiledescriptor (Lib/test/_test_multiprocessing.py),
// ported: Queue/JoinableQueue/SimpleQueue between real processes, with CPython's timeouts and errors.
import assert from 'node:assert/strict';
import * as mp from 'forkscope';
import {
  forEachMethod,
  forEachType,
  ALL_TYPES,
  PROCESSES,
  DELTA,
  TIMEOUT1,
  TIMEOUT2,
  TIMEOUT3,
  SHORT_TIMEOUT,
  EARLY,
  sleep,
  timedRejects,
  PROMPT,
  it,
} from './support';
import * as t from './targets';

forEachType('_TestQueue', ALL_TYPES, (kit) => {
  const { ctx } = kit;
  /** Python's `multiprocessing.Queue` (module level), which some cases use whatever the mixin: the default context's. */
  const mpQueue = kit.type === 'manager' ? mp : ctx;

  it('test_put (_TestQueue)', async () => {
    const MAXSIZE = 6;
    const queue = await kit.Queue({ maxsize: MAXSIZE });
    const childCanStart = await kit.Event();
    const parentCanContinue = await kit.Event();
    const proc = new ctx.Process({ target: t.takeSix, args: [queue, childCanStart, parentCanContinue], daemon: true });
    proc.start();
    assert.equal(await queue.empty(), true);
    assert.equal(await queue.full(), false);
    await queue.put(1);
    await queue.put(2, { block: true });
    await queue.put(3, { block: true, timeout: undefined });
    await queue.put(4, { block: false });
    await queue.put(5, { block: false, timeout: undefined });
    await queue.putNowait(6);
    await sleep(DELTA);
    assert.equal(await queue.empty(), false);
    assert.equal(await queue.full(), true);
    assert.ok((await timedRejects(() => queue.put(7, { block: false }), 'Full')) < PROMPT);
    assert.ok((await timedRejects(() => queue.put(7, { block: false, timeout: undefined }), 'Full')) < PROMPT);
    assert.ok((await timedRejects(() => queue.putNowait(7), 'Full')) < PROMPT);
    assert.ok((await timedRejects(() => queue.put(7, { block: true, timeout: TIMEOUT1 }), 'Full')) >= TIMEOUT1 - EARLY);
    assert.ok((await timedRejects(() => queue.put(7, { block: false, timeout: TIMEOUT2 }), 'Full')) < PROMPT);
    assert.ok((await timedRejects(() => queue.put(7, { timeout: TIMEOUT3 }), 'Full')) >= TIMEOUT3 - EARLY);
    await childCanStart.set();
    await parentCanContinue.wait();
    assert.equal(await queue.empty(), true);
    assert.equal(await queue.full(), false);
    await proc.join();
    closeQueue(queue);
  });

  it('test_get (_TestQueue)', async () => {
    const queue = await kit.Queue();
    const childCanStart = await kit.Event();
    const parentCanContinue = await kit.Event();
    const proc = new ctx.Process({ target: t.putTwoToFive, args: [queue, childCanStart, parentCanContinue], daemon: true });
    proc.start();
    assert.equal(await queue.empty(), true);
    await childCanStart.set();
    await parentCanContinue.wait();
    await sleep(DELTA);
    assert.equal(await queue.empty(), false);
    assert.equal(await queue.get({ block: true, timeout: undefined }), 2);
    assert.equal(await queue.get({ block: true }), 3);
    assert.equal(await queue.get({ timeout: 1000 }), 4);
    assert.equal(await queue.getNowait(), 5);
    assert.equal(await queue.empty(), true);
    assert.ok((await timedRejects(() => queue.get({ block: false }), 'Empty')) < PROMPT);
    assert.ok((await timedRejects(() => queue.get({ block: false, timeout: undefined }), 'Empty')) < PROMPT);
    assert.ok((await timedRejects(() => queue.getNowait(), 'Empty')) < PROMPT);
    assert.ok((await timedRejects(() => queue.get({ block: true, timeout: TIMEOUT1 }), 'Empty')) >= TIMEOUT1 - EARLY);
    assert.ok((await timedRejects(() => queue.get({ block: false, timeout: TIMEOUT2 }), 'Empty')) < PROMPT);
    assert.ok((await timedRejects(() => queue.get({ timeout: TIMEOUT3 }), 'Empty')) >= TIMEOUT3 - EARLY);
    await proc.join();
    closeQueue(queue);
  });

  it('test_fork (_TestQueue)', async () => {
    const queue = await kit.Queue();
    for (let i = 0; i < 10; i++) await queue.put(i);
    await sleep(DELTA);
    const p = new ctx.Process({ target: t.putTenToNineteen, args: [queue], daemon: true });
    p.start();
    for (let i = 0; i < 20; i++) assert.equal(await queue.get(), i);
    await assert.rejects(queue.get({ block: false }), { name: 'Empty' });
    await p.join();
    closeQueue(queue);
  });

  it('test_qsize (_TestQueue)', async () => {
    const q = await kit.Queue();
    assert.equal(await q.qsize(), 0);
    await q.put(1);
    assert.equal(await q.qsize(), 1);
    await q.put(5);
    assert.equal(await q.qsize(), 2);
    await q.get();
    assert.equal(await q.qsize(), 1);
    await q.get();
    assert.equal(await q.qsize(), 0);
    closeQueue(q);
  });

  it('test_task_done (_TestQueue)', { timeout: 120_000 }, async () => {
    const queue = await kit.JoinableQueue();
    const workers = Array.from({ length: 4 }, () => new ctx.Process({ target: t.taskDoneWorker, args: [queue], daemon: true }));
    for (const p of workers) p.start();
    for (let i = 0; i < 10; i++) await queue.put(i);
    await queue.join();
    for (const _ of workers) await queue.put(null);
    for (const p of workers) await p.join();
    closeQueue(queue);
  });

  it('test_no_import_lock_contention (_TestQueue)', { skip: "not ported: CPython's import lock (issue 22853) has no Node twin" }, () => {});

  it('test_timeout (_TestQueue)', async () => {
    // CPython's case makes a multiprocessing.Queue() whatever the mixin.
    const q = new mpQueue.Queue();
    const elapsed = await timedRejects(() => q.get({ block: true, timeout: 200 }), 'Empty');
    assert.ok(elapsed >= 100, `waited ${elapsed} ms`);
    q.close();
  });

  it('test_queue_feeder_donot_stop_onexc (_TestQueue)', { skip: kit.type !== 'processes' ? 'CPython runs it only for processes' : false }, async () => {
    // Deviates on purpose: an object that cannot cross fails its own put() (RELIABILITY.md: a clear error at
    // the call), where CPython's feeder thread prints and drops it; either way the queue keeps working.
    const notSerializable = Symbol('cannot cross');
    let q = new ctx.Queue<unknown>();
    await assert.rejects(async () => q.put(notSerializable));
    await q.put(true);
    assert.equal(await q.get({ timeout: SHORT_TIMEOUT }), true);
    q.close();
    q = new ctx.Queue<unknown>({ maxsize: 1 });
    await assert.rejects(async () => q.put(notSerializable));
    await q.put(true);
    assert.equal(q.qsize(), 1);
    assert.equal(await q.get({ timeout: SHORT_TIMEOUT }), true);
    assert.equal(q.empty(), true);
    q.close();
  });

  it('test_queue_feeder_on_queue_feeder_error (_TestQueue)', {
    skip: "not ported: _on_queue_feeder_error is a private hook of CPython's feeder thread",
  }, () => {});

  it('test_closed_queue_empty_exceptions (_TestQueue)', async () => {
    // CPython's case makes multiprocessing.Queue()/JoinableQueue() whatever the mixin.
    for (const q of [new mpQueue.Queue(), new mpQueue.JoinableQueue()]) {
      q.close();
      q.joinThread();
      assert.equal(q.empty(), true);
    }
    for (const q of [new mpQueue.Queue(), new mpQueue.JoinableQueue()]) {
      await q.put('foo');
      q.close();
      q.joinThread();
      assert.throws(() => q.empty(), { name: 'OSError', message: /is closed/ });
    }
  });

  it('test_closed_queue_put_get_exceptions (_TestQueue)', async () => {
    for (const q of [new mpQueue.Queue(), new mpQueue.JoinableQueue()]) {
      q.close();
      await assert.rejects(async () => q.put('foo'), { name: 'ValueError', message: /is closed/ });
      await assert.rejects(async () => q.get(), { name: 'ValueError', message: /is closed/ });
    }
  });
});

/** CPython's close_queue(q): closes a multiprocessing queue; a manager's proxy has nothing to close. */
function closeQueue(q: { close?: () => void }): void {
  if (typeof q.close === 'function') q.close();
}

forEachMethod('TestSimpleQueue', PROCESSES, (ctx) => {
  it('test_empty_exceptions (TestSimpleQueue)', async () => {
    const q = new ctx.SimpleQueue();
    q.close();
    assert.throws(() => q.empty(), { name: 'OSError', message: /is closed/ });
  });

  it('test_empty (TestSimpleQueue)', async () => {
    const queue = new ctx.SimpleQueue<boolean>();
    const childCanStart = new ctx.Event();
    const parentCanContinue = new ctx.Event();
    const proc = new ctx.Process({ target: t.simpleQueueEmpty, args: [queue, childCanStart, parentCanContinue], daemon: true });
    proc.start();
    assert.equal(queue.empty(), true);
    childCanStart.set();
    await parentCanContinue.wait();
    assert.equal(queue.empty(), false);
    assert.equal(await queue.get(), true);
    assert.equal(await queue.get(), false);
    assert.equal(queue.empty(), true);
    await proc.join();
  });

  it('test_close (TestSimpleQueue)', () => {
    const queue = new ctx.SimpleQueue();
    queue.close();
    queue.close();
  });

  it('test_closed (TestSimpleQueue)', { skip: "not ported: reads CPython's private _reader/_writer" }, () => {});
});

forEachMethod('TestStdinBadfiledescriptor', PROCESSES, (ctx) => {
  it('test_queue_in_process (TestStdinBadfiledescriptor)', async () => {
    const proc = new ctx.Process({ target: t.queueInProcess });
    proc.start();
    await proc.join();
    assert.equal(proc.exitCode, 0);
  });

  it('test_pool_in_process (TestStdinBadfiledescriptor)', { timeout: 120_000 }, async () => {
    const p = new ctx.Process({ target: t.poolInProcess });
    p.start();
    await p.join();
    assert.equal(p.exitCode, 0);
  });

  it('test_flushing (TestStdinBadfiledescriptor)', { skip: "not ported: a file-like object's flush across fork; Node has no fork start method" }, () => {});
});

void mp;
