// Exported targets of the conformance layer: the twins of the classmethods and module functions that
// CPython's _test_multiprocessing.py and test_concurrent_futures hand to Process, Pool and the executor.
// Children find each one by this module and its export name, as pickle finds Python's.
import type { StartMethod } from '../../runtime/src/protocol';
import { appendFileSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { setTimeout as sleepMs } from 'node:timers/promises';
import {
  Process,
  type Connection,
  currentProcess,
  parentProcess,
  getStartMethod,
  connection,
  type Barrier,
  type BoundedSemaphore,
  type Condition,
  type Event,
  type JoinableQueue,
  type Lock,
  type Queue,
  type RLock,
  type Semaphore,
  type SimpleQueue,
  type Value,
  type RawValue,
  type BarrierProxy,
  type ConditionProxy,
  type EventProxy,
  type ListProxy,
  type QueueProxy,
  type SemaphoreProxy,
  type ValueProxy,
} from 'forkscope';

type AnyQueue<T = unknown> = Queue<T> | JoinableQueue<T> | SimpleQueue<T>;
/** A shared int, or a manager's Value proxy (ManagerMixin). */
type Counter = Value<'i'> | ValueProxy<number>;
/** _TestBarrier's DummyList: a shared int whose value counts appends, or ManagerMixin's manager.list(). */
type DummyList = Value<'i'> | ListProxy;
type BarrierLike = Barrier | BarrierProxy;
type EventLike = Event | EventProxy;
type QueueLike = Queue | QueueProxy;
type ConditionLike = Condition | ConditionProxy;
type SemaphoreLike = Semaphore | SemaphoreProxy;

/** time.sleep(ms) in a child. */
export async function nap(ms: number): Promise<void> {
  await sleepMs(ms);
}

/** _sleep_some: sleeps 100 s (long enough to be killed). */
export async function sleepSome(): Promise<void> {
  await sleepMs(100_000);
}

/** Returns `x` unchanged (CPython's identity). */
export function identity<T>(x: T): T {
  return x;
}

/** CPython's sqr(x, wait=0.0): sleeps `wait` ms, then returns x*x. */
export async function sqr(x: number, wait = 0): Promise<number> {
  if (wait > 0) await sleepMs(wait);
  return x * x;
}

/** CPython's mul(x, y). */
export function mul(x: number, y: number): number {
  return x * y;
}

/** CPython's int() given to map_async: parses a decimal string or throws ValueError. */
export function toInt(text: string): number {
  if (!/^\s*[-+]?\d+\s*$/.test(text)) {
    const e = new Error(`invalid literal for int() with base 10: '${text}'`);
    e.name = 'ValueError';
    throw e;
  }
  return Number.parseInt(text, 10);
}

/** An exported Error subclass with a Python name, thrown in workers to see its class come back. */
export class SayWhenError extends Error {
  constructor(message = 'Somebody said when') {
    super(message);
    this.name = 'SayWhenError';
  }
}

/** CPython's exception_throwing_generator(total, when). */
export function* exceptionThrowingGenerator(total: number, when: number): Generator<number> {
  if (when === -1) throw new SayWhenError('Somebody said when');
  for (let i = 0; i < total; i++) {
    if (i === when) throw new SayWhenError('Somebody said when');
    yield i;
  }
}

/** A Python-named error thrown in a worker: CPython's raising() raises KeyError("key"). */
export function raising(): never {
  const e = new Error("'key'");
  e.name = 'KeyError';
  throw e;
}

/** _test_traceback / _test_wrapped_exception: raise RuntimeError(123) # some comment */
export function raiseRuntimeError(arg: unknown = 123): never {
  const e = new Error(String(arg));
  e.name = 'RuntimeError';
  throw e; // some comment
}

/** CPython's raise_large_valuerror(wait): sleeps, then raises a ValueError with a 1 MiB message. */
export async function raiseLargeValueError(wait: number): Promise<never> {
  await sleepMs(wait);
  const e = new Error('x'.repeat(1024 * 1024));
  e.name = 'ValueError';
  throw e;
}

/** CPython's unpickleable_result(): returns a lambda (here a closure, which cannot cross). */
export function unpickleableResult(): unknown {
  return () => 42;
}

/** A function that is not exported, handed out by a target so the result cannot cross. */
export function returnsSymbol(): unknown {
  return Symbol('cannot cross');
}

// --- _TestProcess ---

/** _test(q, *args, **kwds): reports its arguments, name and pid. */
export async function reportArgs(q: Queue, ...rest: unknown[]): Promise<void> {
  const kwargs =
    rest.length > 0 && typeof rest[rest.length - 1] === 'object' && rest[rest.length - 1] !== null && !Array.isArray(rest[rest.length - 1]) ? rest.pop() : {};
  const current = currentProcess();
  await q.put(rest);
  await q.put(kwargs);
  await q.put(current.name);
  await q.put(current.pid);
}

/** _test_args(q, arg). */
export async function putArg(q: Queue, arg: unknown): Promise<void> {
  await q.put(arg);
}

/** _test_send_parent_process(wconn). */
export async function sendParentProcess(wconn: Connection): Promise<void> {
  const parent = parentProcess();
  await wconn.send([parent?.pid, parent?.name]);
}

/** _test_create_grandchild_process(wconn): starts a grandchild, then sleeps 300 s. */
export async function createGrandchildProcess(wconn: Connection, startMethod: StartMethod): Promise<void> {
  const p = new Process({ target: reportParentStatus, args: [wconn], startMethod });
  p.start();
  await sleepMs(300_000);
}

/** _test_report_parent_status(wconn). */
export async function reportParentStatus(wconn: Connection): Promise<void> {
  const parent = parentProcess()!;
  await wconn.send(parent.isAlive() ? 'alive' : 'not alive');
  await parent.join({ timeout: 30_000 });
  await wconn.send(parent.isAlive() ? 'alive' : 'not alive');
}

/** _test_recursion(wconn, id): a tree of processes, each reporting its path. */
export async function recursion(wconn: Connection, id: number[], startMethod: StartMethod): Promise<void> {
  await wconn.send(id);
  if (id.length < 2) {
    for (let i = 0; i < 2; i++) {
      const p = new Process({ target: recursion, args: [wconn, [...id, i], startMethod], startMethod });
      p.start();
      await p.join();
    }
  }
}

/** _test_sentinel(event). */
export async function waitEvent(event: Event): Promise<void> {
  await event.wait(10_000);
}

/** _test_close(rc=0, q=None). */
export async function closeTarget(kw: { q?: Queue; rc?: number }): Promise<void> {
  if (kw.q) await kw.q.get();
  process.exitCode = kw.rc ?? 0;
}

/** _test_child_fd_inflation(evt, q): reports how many fds the child has open. */
export async function childFdCount(evt: Event, q: Queue<number>): Promise<void> {
  await q.put(readdirSync('/proc/self/fd').length);
  await evt.wait();
}

/** _UpperCaser: a Process subclass whose run() upper-cases what it receives until null. */
export class UpperCaser extends Process {
  readonly childConn: Connection;
  readonly parentConn: Connection;
  constructor(startMethod?: StartMethod) {
    super({ startMethod });
    [this.childConn, this.parentConn] = connection.Pipe();
  }
  override async run(): Promise<void> {
    this.parentConn.close();
    for (let s = await this.childConn.recv<string | null>(); s !== null; s = await this.childConn.recv<string | null>()) {
      await this.childConn.send(s.toUpperCase());
    }
    this.childConn.close();
  }
  async submit(s: string): Promise<string> {
    await this.parentConn.send(s);
    return this.parentConn.recv<string>();
  }
  async stop(): Promise<void> {
    await this.parentConn.send(null);
    this.parentConn.close();
    this.childConn.close();
  }
}

/** _test_stderr_flush(testfn): stderr goes to a new file, then the target fails. */
export function stderrToFileThenFail(testfn: string): void {
  const fd = openSync(testfn, 'wx');
  process.stderr.write = ((chunk: string | Uint8Array) => {
    if (typeof chunk === 'string') writeSync(fd, chunk);
    else writeSync(fd, chunk);
    return true;
  }) as typeof process.stderr.write;
  throw new RangeError('1/0 # MARKER');
}

/** _test_sys_exit(reason, testfn): stderr to a file, then the twin of sys.exit(reason) with a non-int reason. */
export function stderrToFileThenExit(reason: unknown, testfn: string): void {
  process.stderr.write = ((chunk: string | Uint8Array) => {
    appendFileSync(testfn, chunk);
    return true;
  }) as typeof process.stderr.write;
  throw reason;
}

/** sys.exit(code) as a target. */
export function exitWith(code?: number): void {
  process.exit(code);
}

// --- _TestQueue ---

/** _test_put: waits for the go, takes 6 items, signals. */
export async function takeSix(queue: QueueLike, childCanStart: EventLike, parentCanContinue: EventLike): Promise<void> {
  await childCanStart.wait();
  for (let i = 0; i < 6; i++) await queue.get();
  await parentCanContinue.set();
}

/** _test_get: waits for the go, puts 2..5, signals. */
export async function putTwoToFive(queue: QueueLike, childCanStart: EventLike, parentCanContinue: EventLike): Promise<void> {
  await childCanStart.wait();
  for (const i of [2, 3, 4, 5]) await queue.put(i);
  await parentCanContinue.set();
}

/** _test_fork: puts 10..19. */
export async function putTenToNineteen(queue: QueueLike): Promise<void> {
  for (let i = 10; i < 20; i++) await queue.put(i);
}

/** _test_task_done: takes items until null, marking each done after DELTA. */
export async function taskDoneWorker(q: JoinableQueue<number | null> | QueueProxy<number | null>): Promise<void> {
  for (let obj = await q.get(); obj !== null; obj = await q.get()) {
    await sleepMs(100);
    await q.taskDone();
  }
}

/** TestSimpleQueue._test_empty: reports empty() twice after its own puts. */
export async function simpleQueueEmpty(queue: SimpleQueue<boolean>, childCanStart: Event, parentCanContinue: Event): Promise<void> {
  await childCanStart.wait();
  try {
    await queue.put(queue.empty());
    await queue.put(queue.empty());
  } finally {
    parentCanContinue.set();
  }
}

/** _this_sub_process(q): a non-blocking get that may find nothing. */
export async function getNoWait(q: Queue): Promise<void> {
  try {
    await q.get({ block: false });
  } catch {}
}

/** _test_process: a child that starts its own child with a queue. */
export async function queueInProcess(): Promise<void> {
  const { Queue: Q } = await import('forkscope');
  const queue = new Q();
  const sub = new Process({ target: getNoWait, args: [queue], daemon: true });
  sub.start();
  await sub.join();
}

/** pool_in_process: a child that runs its own Pool. */
export async function poolInProcess(): Promise<void> {
  const { Pool } = await import('forkscope');
  const pool = new Pool({ processes: 4 });
  await pool.map(sqr, [1, 2, 3, 4, 5, 6, 7]);
  pool.close();
  await pool.join();
}

/** close_queue(q) as a target (test_mixed_startmethod). */
export function closeQueue(q: Queue): void {
  q.close();
}

// --- _TestCondition ---

/** f(cond, sleeping, woken, timeout=None): waits on the condition, counting sleepers and wakers. */
export async function conditionWaiter(cond: ConditionLike, sleeping: SemaphoreLike, woken: SemaphoreLike, timeout?: number): Promise<void> {
  await cond.acquire();
  await sleeping.release();
  await (timeout === undefined ? cond.wait() : cond.wait(timeout));
  await woken.release();
  await cond.release();
}

/** _test_waitfor_f(cond, state). */
export async function waitForFour(cond: ConditionLike, state: Counter): Promise<void> {
  await cond.acquire();
  try {
    state.value = 0;
    await cond.notify();
    const result = await cond.waitFor(async () => (await state.value) === 4);
    if (!result || (await state.value) !== 4) process.exitCode = 1;
  } finally {
    await cond.release();
  }
}

/** _test_waitfor_timeout_f(cond, state, success, sem). */
export async function waitForTimeout(cond: ConditionLike, state: Counter, success: Counter, sem: SemaphoreLike): Promise<void> {
  await sem.release();
  await cond.acquire();
  try {
    const expected = 100;
    const started = performance.now();
    // waitFor(predicate, timeout=…) in DESIGN.md's options form.
    const result = await cond.waitFor(async () => (await state.value) === 4, { timeout: expected });
    const dt = performance.now() - started;
    if (!result && expected - 20 <= dt) {
      success.value = 1;
      // A proxy's assignment is sent without waiting: read it back so it is in before the child ends.
      await success.value;
    }
  } finally {
    await cond.release();
  }
}

/** _test_wait_result(c, pid=None): notifies once. */
export async function notifyOnce(c: ConditionLike): Promise<void> {
  await c.acquire();
  await c.notify();
  await c.release();
}

// --- _TestEvent ---

/** _test_event(event): sleeps TIMEOUT2, then sets. */
export async function setAfter(event: EventLike, delay = 100): Promise<void> {
  await sleepMs(delay);
  await event.set();
}

// --- _TestBarrier (Bunch) ---

/** _DummyList.append's twin: a shared int with a lock, whose value counts appends; a manager list appends. */
export async function append(list: DummyList): Promise<void> {
  if (!('acquire' in list)) return list.append(true);
  await list.acquire();
  list.value = list.value + 1;
  list.release();
}

/** len(DummyList): the shared int's value, or the manager list's length. */
export async function count(list: DummyList): Promise<number> {
  return 'acquire' in list ? list.value : list.len();
}

const N = 5;

async function multipass(barrier: BarrierLike, results: [DummyList, DummyList], n: number): Promise<void> {
  const m = await barrier.parties;
  if (m !== N) throw new Error(`parties ${m}`);
  for (let i = 0; i < n; i++) {
    await append(results[0]);
    const second = await count(results[1]);
    if (second !== i * m) throw new Error(`pass ${i}: results[1] ${second}`);
    await barrier.wait();
    await append(results[1]);
    const first = await count(results[0]);
    if (first !== (i + 1) * m) throw new Error(`pass ${i}: results[0] ${first}`);
    await barrier.wait();
  }
  const waiting = await barrier.nWaiting;
  if (waiting !== 0) throw new Error(`nWaiting ${waiting}`);
  if (await barrier.broken) throw new Error('broken');
}

async function waitReturn(barrier: BarrierLike, queue: QueueLike): Promise<void> {
  await queue.put(await barrier.wait());
}

async function actionF(barrier: BarrierLike, results: DummyList): Promise<void> {
  await barrier.wait();
  const n = await count(results);
  if (n !== 1) throw new Error(`action ran ${n} times`);
}

const isBroken = (e: unknown): boolean => e instanceof Error && e.name === 'BrokenBarrierError';

async function abortF(barrier: BarrierLike, results1: DummyList, results2: DummyList): Promise<void> {
  try {
    const i = await barrier.wait();
    if (i === Math.floor(N / 2)) {
      await barrier.abort();
      return;
    }
    await barrier.wait();
    await append(results1);
  } catch (e) {
    if (!isBroken(e)) throw e;
    await append(results2);
  }
}

async function resetF(barrier: BarrierLike, results1: DummyList, results2: DummyList, results3: DummyList): Promise<void> {
  const i = await barrier.wait();
  if (i === Math.floor(N / 2)) {
    while ((await barrier.nWaiting) < N - 1) await sleepMs(1);
    await barrier.reset();
  } else {
    try {
      await barrier.wait();
      await append(results1);
    } catch (e) {
      if (!isBroken(e)) throw e;
      await append(results2);
    }
  }
  await barrier.wait();
  await append(results3);
}

async function abortAndResetF(barrier: BarrierLike, barrier2: BarrierLike, results1: DummyList, results2: DummyList, results3: DummyList): Promise<void> {
  try {
    const i = await barrier.wait();
    if (i === Math.floor(N / 2)) {
      await barrier.abort();
    } else {
      await barrier.wait();
      await append(results1);
    }
  } catch (e) {
    if (!isBroken(e)) throw e;
    await append(results2);
  }
  if ((await barrier2.wait()) === Math.floor(N / 2)) await barrier.reset();
  await barrier2.wait();
  await barrier.wait();
  await append(results3);
}

async function timeoutF(barrier: BarrierLike, results: DummyList): Promise<void> {
  const i = await barrier.wait();
  if (i === Math.floor(N / 2)) await sleepMs(1000);
  try {
    await barrier.wait(500);
  } catch (e) {
    if (!isBroken(e)) throw e;
    await append(results);
  }
}

async function defaultTimeoutF(barrier: BarrierLike, results: DummyList): Promise<void> {
  const i = await barrier.wait(30_000);
  if (i === Math.floor(N / 2)) await sleepMs(1000);
  try {
    await barrier.wait();
  } catch (e) {
    if (!isBroken(e)) throw e;
    await append(results);
  }
}

/** The barrier bodies by name: a Bunch task names its function, since functions do not travel as arguments. */
export const barrierBodies: Record<string, (...args: any[]) => Promise<void>> = {
  multipass,
  waitReturn,
  actionF,
  abortF,
  resetF,
  abortAndResetF,
  timeoutF,
  defaultTimeoutF,
};

/** Bunch.task: counts itself started, runs the named body, counts itself finished, waits for the go to exit. */
export async function bunchTask(body: string, args: unknown[], started: DummyList, finished: DummyList, canExit: EventLike): Promise<void> {
  await append(started);
  try {
    await barrierBodies[body]!(...args);
  } finally {
    await append(finished);
    await canExit.wait(30_000);
  }
}

/** _test_thousand_f(barrier, passes, conn, lock). */
export async function thousand(barrier: BarrierLike, passes: number, conn: Connection, lock: Lock): Promise<void> {
  for (let i = 0; i < passes; i++) {
    await barrier.wait();
    await lock.acquire();
    try {
      await conn.send(i);
    } finally {
      lock.release();
    }
  }
}

// --- _TestValue / _TestArray / _TestSharedCTypes ---

/** _TestValue._test(values): writes each value's second sample. */
export function setValues(values: Array<RawValue>, samples: unknown[]): void {
  values.forEach((v, i) => {
    v.value = samples[i] as never;
  });
}

/** _TestArray.f(seq): running sums in place. */
export function prefixSums(seq: { length: number; getItem(i: number): number; setItem(i: number, v: number): void }): void {
  for (let i = 1; i < seq.length; i++) seq.setItem(i, seq.getItem(i) + seq.getItem(i - 1));
}

/** _TestSharedCTypes._double(x, y, z, foo, arr, string). */
export function doubleAll(
  x: RawValue<'i'>,
  y: RawValue<'d'>,
  z: RawValue<'q'>,
  foo: { value: { x: number; y: number } } | null,
  arr: { length: number; getItem(i: number): number; setItem(i: number, v: number): void },
  string: { value: string },
): void {
  x.value *= 2;
  y.value *= 2;
  z.value *= 2;
  if (foo) {
    foo.value.x *= 2;
    foo.value.y *= 2;
  }
  string.value = string.value + string.value;
  for (let i = 0; i < arr.length; i++) arr.setItem(i, arr.getItem(i) * 2);
}

// --- _TestConnection / _TestPoll / _TestListenerClient ---

/** _echo(conn): echoes bytes until an empty message. */
export async function echo(conn: Connection): Promise<void> {
  for (let msg = await conn.recvBytes(); msg.length > 0; msg = await conn.recvBytes()) await conn.sendBytes(msg);
  conn.close();
}

/** _child_strings(conn, strings): sends each after 100 ms. */
export async function childStrings(conn: Connection, strings: string[]): Promise<void> {
  for (const s of strings) {
    await sleepMs(100);
    await conn.sendBytes(Buffer.from(s));
  }
  conn.close();
}

/** _child_boundaries(r): polls for 5 s. */
export async function childBoundaries(r: Connection): Promise<void> {
  await r.poll(5000);
}

/** _child_dont_merge(b). */
export async function childDontMerge(b: Connection): Promise<void> {
  await b.sendBytes(Buffer.from('a'));
  await b.sendBytes(Buffer.from('b'));
  await b.sendBytes(Buffer.from('cd'));
}

/** _TestListenerClient._test(address): connects and says hello. */
export async function clientHello(address: unknown, authkey?: Buffer): Promise<void> {
  const c = await (connection as any).Client(address, authkey === undefined ? {} : { authkey });
  await c.send('hello');
  c.close();
}

/** TestTimeouts._test_timeout(child, address). */
export async function sendThenConnect(child: Connection, address: unknown): Promise<void> {
  await sleepMs(1000);
  await child.send(123);
  child.close();
  const c = await (connection as any).Client(address);
  await c.send(456);
  c.close();
}

/** child_access(conn): receives connections over a connection and uses them. */
export async function childAccess(conn: Connection): Promise<void> {
  const w = await conn.recv<Connection>();
  await w.send('all is well');
  w.close();
  const r = await conn.recv<Connection>();
  const msg = await r.recv<string>();
  await conn.send(msg + msg);
  conn.close();
}

/** TestWait._child_test_wait(w, slow). */
export async function childTestWait(w: Connection, slow: boolean): Promise<void> {
  for (let i = 0; i < 10; i++) {
    if (slow) await sleepMs(Math.random() * 100);
    await w.send([i, process.pid]);
  }
  w.close();
}

/** TestWait._child_test_wait_socket(address, slow): a plain TCP client. */
export async function childTestWaitSocket(port: number, slow: boolean): Promise<void> {
  const { connect } = await import('node:net');
  const s = connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => s.once('connect', r).once('error', j));
  for (let i = 0; i < 10; i++) {
    if (slow) await sleepMs(Math.random() * 100);
    await new Promise<void>((r) => s.write(`${i}\n`, () => r()));
  }
  await new Promise<void>((r) => s.end(r));
}

/** TestWait.signal_and_sleep(sem, period). */
export async function signalAndSleep(sem: Semaphore, period: number): Promise<void> {
  sem.release();
  await sleepMs(period);
}

// --- TestStartMethod ---

/** _check_context(conn): reports the child's start method. */
export async function sendStartMethod(conn: Connection): Promise<void> {
  await conn.send(getStartMethod());
}

/** _put_one_in_queue(queue). */
export async function putOne(queue: Queue): Promise<void> {
  await queue.put(1);
}

/** _put_two_and_nest_once(queue). */
export async function putTwoAndNestOnce(queue: Queue): Promise<void> {
  await queue.put(2);
  const p = new Process({ target: putOne, args: [queue] });
  p.start();
  await p.join();
}

// --- locks given to children (used by futures and misc) ---

/** Holds `lock` for `ms`, then releases it. */
export async function holdLock(lock: Lock | RLock, ms: number): Promise<void> {
  await lock.acquire();
  await sleepMs(ms);
  lock.release();
}

/** Acquire a bounded semaphore and report the result. */
export async function tryAcquire(sem: BoundedSemaphore | Semaphore, q: Queue<boolean>): Promise<void> {
  await q.put(await sem.acquire({ block: false }));
}

// --- TestInitializers ---

/** initializer(ns): ns.test += 1 */
export async function bumpNamespace(ns: Record<string, any>): Promise<void> {
  ns.test = (await ns.test) + 1;
}

// --- test_concurrent_futures ---

/** mul(x, y) with a pause: CPython's executor tests use time.sleep in tasks. */
export async function napThenReturn(ms: number, value: unknown): Promise<unknown> {
  await sleepMs(ms);
  return value;
}

/** A task that kills its own worker process (the deadlock/broken-pool cases: _exit). */
export function exitWorker(code = 1): void {
  process.exit(code);
}

/** A task that kills its own worker with a signal (SIGKILL). */
export function killWorker(): void {
  process.kill(process.pid, 'SIGKILL');
}

/** CPython's _crash(delay=None): a native crash (SIGABRT) during a task, after `delay` ms. */
export async function crashWorker(delay?: number): Promise<void> {
  if (delay) await sleepMs(delay);
  process.abort();
}

/** CPython's _crash_with_data(data). */
export function crashWithData(_data: string): void {
  process.abort();
}

/** Python's pow(a, b). */
export function pow(a: number, b: number): number {
  return a ** b;
}

/** Python's divmod(a, b): ZeroDivisionError when b is 0. */
export function divmod(a: number, b: number): [number, number] {
  if (b === 0) raiseNamed('ZeroDivisionError', 'integer division or modulo by zero');
  return [Math.floor(a / b), a - Math.floor(a / b) * b];
}

/** Python's abs(x). */
export function abs(x: number): number {
  return Math.abs(x);
}

/** Python's str(x). */
export function toStr(x: unknown): string {
  return String(x);
}

/** Python's int() with no argument: 0. */
export function zero(): number {
  return 0;
}

/** sem.acquire as a task (a bound method does not cross as a target). */
export async function acquireSem(sem: Semaphore): Promise<boolean> {
  return sem.acquire();
}

/** CPython's _return_instance(cls) with its bad classes: an object whose serialisation crashes, exits or fails. */
export function returnInstance(kind: 'CrashAtPickle' | 'ExitAtPickle' | 'ErrorAtPickle'): unknown {
  return {
    get field(): unknown {
      if (kind === 'CrashAtPickle') process.abort();
      if (kind === 'ExitAtPickle') process.exit(1);
      return raiseNamed('PicklingError', 'Error in pickle');
    },
  };
}

/** Returns its worker's pid (executor tests count distinct workers). */
export async function workerPid(ms = 0): Promise<number> {
  if (ms > 0) await sleepMs(ms);
  return process.pid;
}

/** Raises an error whose name is given. */
export function raiseNamed(name: string, message = ''): never {
  const e = new Error(message);
  e.name = name;
  throw e;
}

/** Waits on an Event (given to a worker through the pool's initializer), then returns `value`. */
export async function waitThenReturn(event: Event, value: unknown): Promise<unknown> {
  await event.wait(30_000);
  return value;
}

/** Counts calls per worker: the initializer's global. */
let initialized: unknown;
/** CPython's init(x): the executor/pool initializer sets a global. */
export function initGlobal(x: unknown): void {
  initialized = x;
}
/** Returns what the initializer set. */
export function getInitialized(): unknown {
  return initialized;
}
/** CPython's init_fail(): lets some futures be scheduled, then raises. */
export async function initFail(): Promise<never> {
  await sleepMs(100);
  return raiseNamed('ValueError', 'error in initializer');
}

/** The number of a worker's open file descriptors is not the point here; a no-op task. */
export function noop(): void {}

/** Exported only so a test can name a fixture that is not a target (a Semaphore type user). */
export type { BoundedSemaphore, Semaphore };

// --- managers: TestSyncManagerTypes workers, _TestMyManager, _TestRemoteManager ---

/** A small awaitable FIFO: the twin of the queue.Queue that CPython's get_queue() serves from a manager. */
export class LocalQueue<T = unknown> {
  #items: T[] = [];
  #waiters: Array<(item: T) => void> = [];
  put(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
  }
  get(): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    return new Promise((r) => this.#waiters.push(r));
  }
}
let served: LocalQueue | undefined;
/** CPython's get_queue(): the one queue this (server) process serves. */
export function getQueue(): LocalQueue {
  return (served ??= new LocalQueue());
}

/** CPython's FooBar: f() answers, g() raises ValueError, _h() is private unless exposed. */
export class FooBar {
  f(): string {
    return 'f()';
  }
  g(): never {
    return raiseNamed('ValueError');
  }
  _h(): string {
    return '_h()';
  }
}

/** CPython's baz(): a generator of squares, served through an iterator proxy. */
export function* baz(): Generator<number> {
  for (let i = 0; i < 10; i++) yield i * i;
}

/** Type of a worker that checks a manager proxy in a child and throws on any mismatch. */
function check(condition: unknown, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
}

/** TestSyncManagerTypes._test_event(obj). */
export async function mgrEvent(obj: any): Promise<void> {
  check(await obj.isSet(), 'is_set');
  await obj.wait();
  await obj.clear();
  await obj.wait(1);
}
/** _test_lock(obj) / _test_semaphore(obj). */
export async function mgrAcquire(obj: any): Promise<void> {
  await obj.acquire();
}
/** _test_rlock(obj) / _test_condition(obj). */
export async function mgrAcquireRelease(obj: any): Promise<void> {
  await obj.acquire();
  await obj.release();
}
/** _test_barrier(obj). */
export async function mgrBarrier(obj: any): Promise<void> {
  check((await obj.parties) === 5, 'parties');
  await obj.reset();
}
/** _test_pool(obj): `with obj: pass`. */
export async function mgrPool(obj: any): Promise<void> {
  await obj.terminate();
}
/** _test_queue(obj). */
export async function mgrQueue(obj: any): Promise<void> {
  check((await obj.qsize()) === 2, 'qsize');
  check(await obj.full(), 'full');
  check(!(await obj.empty()), 'not empty');
  check((await obj.get()) === 5, 'get 5');
  check(!(await obj.empty()), 'not empty');
  check((await obj.get()) === 6, 'get 6');
  check(await obj.empty(), 'empty');
}
/** _test_list(obj). */
export async function mgrList(obj: any): Promise<void> {
  check((await obj.get(0)) === 5, 'obj[0]');
  check((await obj.count(5)) === 1, 'count');
  check((await obj.index(5)) === 0, 'index');
  await obj.sort();
  await obj.reverse();
  for (const _ of await obj.copy()) void _;
  check((await obj.len()) === 1, 'len');
  check((await obj.pop(0)) === 5, 'pop');
}
/** _test_dict(obj). */
export async function mgrDict(obj: any): Promise<void> {
  check((await obj.len()) === 1, 'len');
  check((await obj.get('foo')) === 5, "obj['foo']");
  check(JSON.stringify(await obj.items()) === JSON.stringify([['foo', 5]]), 'items');
  check(JSON.stringify(await obj.keys()) === JSON.stringify(['foo']), 'keys');
  check(JSON.stringify(await obj.values()) === JSON.stringify([5]), 'values');
  check(JSON.stringify(await obj.copy()) === JSON.stringify({ foo: 5 }), 'copy');
  check(JSON.stringify(await obj.popitem()) === JSON.stringify(['foo', 5]), 'popitem');
}
/** _test_value(obj). */
export async function mgrValue(obj: any): Promise<void> {
  check((await obj.value) === 1, 'value');
  check((await obj.get()) === 1, 'get');
  await obj.set(2);
}
/** _test_array(obj). */
export async function mgrArray(obj: any): Promise<void> {
  check((await obj.get(0)) === 0, 'obj[0]');
  check((await obj.get(1)) === 1, 'obj[1]');
  check((await obj.len()) === 2, 'len');
  check(JSON.stringify(await obj.copy()) === JSON.stringify([0, 1]), 'list');
}
/** _test_namespace(obj). */
export async function mgrNamespace(obj: any): Promise<void> {
  check((await obj.x) === 0, 'x');
  check((await obj.y) === 1, 'y');
}

/** _TestRemoteManager._putter(address, authkey): connects a second manager class and puts the values. */
export async function remotePutter(address: [string, number], authkey: Buffer, values: unknown[]): Promise<void> {
  const { BaseManager } = await import('forkscope');
  class QueueManager2 extends BaseManager {}
  QueueManager2.register('getQueue');
  const manager = new QueueManager2({ address, authkey });
  await manager.connect();
  const queue = await (manager as any).getQueue();
  await queue.put(values);
}

// --- _TestAtExit, _TestLogging ---

/** _write_file_at_exit(output_path): an exit handler in the child writes a file. */
export function writeFileAtExit(outputPath: string): void {
  process.on('exit', () => writeFileSync(outputPath, 'deadbeef'));
}

/** _test_level(conn): the child's logger level. */
export async function sendLoggerLevel(conn: Connection): Promise<void> {
  const { getLogger } = await import('forkscope');
  await conn.send(getLogger().getEffectiveLevel());
}

// --- _TestSharedMemory ---

/** _attach_existing_shmem_then_write(shmem_name_or_obj, binary_data). */
export async function attachExistingShmemThenWrite(shmemNameOrObj: string | import('forkscope').SharedMemory, binaryData: string): Promise<void> {
  const { SharedMemory } = await import('forkscope');
  const localShm = typeof shmemNameOrObj === 'string' ? new SharedMemory({ name: shmemNameOrObj }) : shmemNameOrObj;
  localShm.buf.write(binaryData, 0, 'latin1');
  localShm.close();
}

/** CPython's sleep_and_raise(t): sleeps, then raises Exception('this is an exception'). */
export async function sleepAndRaise(ms: number): Promise<never> {
  await sleepMs(ms);
  throw new Error('this is an exception');
}
