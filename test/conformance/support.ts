// Shared pieces of the conformance layer (CPython's own multiprocessing tests, ported): the start methods
// each class runs in, CPython's timing constants in ms, and a stopwatch. Test files register their cases
// only in the main process, because every child re-imports its main module (the twin of __mp_main__).
import { after, before, describe, it as nodeIt, type TestContext, type TestOptions } from 'node:test';
import { getContext, isMainProcess, Manager, type Context, type SyncManager } from 'forkscope';
import type { StartMethod } from '../../runtime/src/protocol';

/** CPython's DELTA and TIMEOUT1..3 (CHECK_TIMINGS off), in ms. */
export const DELTA = 100;
export const TIMEOUT1 = 100;
export const TIMEOUT2 = 100;
export const TIMEOUT3 = 100;
/** CPython's support.SHORT_TIMEOUT, shortened to keep the layer within its deadline on a loaded machine. */
export const SHORT_TIMEOUT = 10_000;

/** Python's ProcessesMixin runs as our "spawn" and "forkserver"; its ThreadsMixin as our "thread". */
export const PROCESSES: readonly StartMethod[] = ['spawn', 'forkserver'];
export const ALL: readonly StartMethod[] = ['spawn', 'forkserver', 'thread'];

/** CONFORMANCE_METHODS=spawn,thread,manager narrows a run (to debug one start method, or the manager runs). */
function selected(method: StartMethod | 'manager'): boolean {
  const only = process.env.CONFORMANCE_METHODS;
  return !only || only.split(',').includes(method);
}

/**
 * One describe per start method a CPython test class runs in, titled `<Class> (<method>)`; the body gets the
 * context of that start method, as CPython's mixins hand each class its `self.Process`, `self.Queue`…
 */
export function forEachMethod(cpythonClass: string, methods: readonly StartMethod[], body: (ctx: Context, method: StartMethod) => void): void {
  if (!isMainProcess()) return;
  for (const method of methods.filter(selected)) describe(`${cpythonClass} (${method})`, () => body(getContext(method), method));
}

/** Longest a case may run: no case can hang the layer. Per case, not per file (--test-timeout would time a whole file). */
const CASE_TIMEOUT_MS = 120_000;
type CaseBody = (t: TestContext) => unknown;

/** node:test's `it` with CASE_TIMEOUT_MS unless the case sets its own timeout. */
export function it(name: string, optionsOrBody?: TestOptions | CaseBody, body?: CaseBody): void {
  if (typeof optionsOrBody === 'function') void nodeIt(name, { timeout: CASE_TIMEOUT_MS }, optionsOrBody as never);
  else void nodeIt(name, { timeout: CASE_TIMEOUT_MS, ...optionsOrBody }, body as never);
}

/** Calls `fn` and returns its result with the time it took in ms: CPython's TimingWrapper. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; elapsed: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, elapsed: performance.now() - started };
}

/** Calls `fn`, expects it to reject with an error named `name`, and returns the elapsed ms. */
export async function timedRejects(fn: () => Promise<unknown>, name: string): Promise<number> {
  const started = performance.now();
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  const elapsed = performance.now() - started;
  if (!(error instanceof Error) || error.name !== name)
    throw new Error(`expected a rejection named ${name}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  return elapsed;
}

/** Resolves after `ms`: CPython's time.sleep in the test's own process. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * How long a call that must not wait may take, in ms. CPython checks no timing with CHECK_TIMINGS off; this
 * bound only tells "returned without waiting" from "waited for a timeout or for ever", even on a loaded machine.
 */
export const PROMPT = 10_000;

/** The margin an elapsed time may fall short of a timeout by (timer granularity), in ms. */
export const EARLY = 20;

/** A CPython class whose cases start no process: one describe, titled `<Class>`. */
export function once(cpythonClass: string, body: () => void): void {
  if (!isMainProcess()) return;
  describe(cpythonClass, body);
}

/** CPython's mixin types: ProcessesMixin, ThreadsMixin and ManagerMixin (a class's ALLOWED_TYPES). */
export type MixinType = 'processes' | 'threads' | 'manager';
export const ALL_TYPES: readonly MixinType[] = ['processes', 'threads', 'manager'];

/**
 * What a CPython mixin hands a class's cases: its Process (a context), and the objects made as that mixin makes
 * them: `new ctx.Queue()` for processes and threads, `await manager.Queue()` for ManagerMixin. Each factory
 * resolves, so one case body serves all three; local objects' synchronous calls are awaited like a proxy's.
 */
export interface Kit {
  type: MixinType;
  /** The start method of the cases' processes (ManagerMixin's Process is multiprocessing.Process: the default,
   * forkserver on Linux since Python 3.14; it also halves these runs' time against spawn). */
  method: StartMethod;
  ctx: Context;
  /** ManagerMixin's manager (started once per file, shut down at its end); undefined for the other types. */
  readonly manager: SyncManager | undefined;
  Queue(options?: { maxsize?: number }): Promise<any>;
  JoinableQueue(options?: { maxsize?: number }): Promise<any>;
  Lock(): Promise<any>;
  RLock(): Promise<any>;
  Semaphore(value?: number): Promise<any>;
  BoundedSemaphore(value?: number): Promise<any>;
  Condition(): Promise<any>;
  Event(): Promise<any>;
  Barrier(parties: number, options?: { timeout?: number; action?: () => void }): Promise<any>;
  Value(typecode: 'i', value: number): Promise<any>;
  /** `new ctx.Pool(n)`, or ManagerMixin's `manager.Pool(n)` (a Pool in the manager's process). */
  Pool(processes: number): Promise<any>;
  /** _TestBarrier's DummyList: a counter appended to by t.append and read by t.count (a shared int, or manager.list()). */
  DummyList(): Promise<any>;
}

function localKit(type: MixinType, method: StartMethod): Kit {
  const ctx = getContext(method);
  return {
    type,
    method,
    ctx,
    manager: undefined,
    Queue: async (o) => new ctx.Queue(o),
    JoinableQueue: async (o) => new ctx.JoinableQueue(o),
    Lock: async () => new ctx.Lock(),
    RLock: async () => new ctx.RLock(),
    Semaphore: async (v) => new ctx.Semaphore(v),
    BoundedSemaphore: async (v) => new ctx.BoundedSemaphore(v),
    Condition: async () => new ctx.Condition(),
    Event: async () => new ctx.Event(),
    Barrier: async (n, o) => new ctx.Barrier(n, o),
    Value: async (tc, v) => new ctx.Value(tc, v),
    Pool: async (n) => new ctx.Pool(n),
    DummyList: async () => new ctx.Value('i', 0),
  };
}

let sharedManager: Promise<SyncManager> | undefined;
let shutdownHooked = false;
/** The file's one manager, started at its first ManagerMixin class and shut down when the file's tests end. */
function fileManager(): Promise<SyncManager> {
  sharedManager ??= Manager();
  return sharedManager;
}

/** Registers (at the file's top level, once) the shutdown of the file's manager after its last test. */
function hookShutdown(): void {
  if (shutdownHooked) return;
  shutdownHooked = true;
  after(async () => {
    if (sharedManager) await (await sharedManager).shutdown();
  });
}

function managerKit(): Kit {
  let m: SyncManager | undefined;
  const mgr = (): SyncManager => {
    if (!m) throw new Error("the manager is not started yet (the describe's before hook)");
    return m;
  };
  const kit: Kit = {
    type: 'manager',
    method: 'forkserver',
    ctx: getContext('forkserver'),
    get manager() {
      return m;
    },
    Queue: (o) => mgr().Queue(o),
    JoinableQueue: (o) => mgr().JoinableQueue(o),
    Lock: () => mgr().Lock(),
    RLock: () => mgr().RLock(),
    Semaphore: (v) => mgr().Semaphore(v),
    BoundedSemaphore: (v) => mgr().BoundedSemaphore(v),
    Condition: () => mgr().Condition(),
    Event: () => mgr().Event(),
    Barrier: (n, o) => mgr().Barrier(n, o),
    Value: (tc, v) => mgr().Value(tc, v),
    Pool: (n) => mgr().Pool(n),
    DummyList: () => mgr().list(),
  };
  before(async () => {
    m = await fileManager();
  });
  return kit;
}

/**
 * One describe per run CPython makes of a class: its ProcessesMixin as "spawn" and "forkserver", its ThreadsMixin
 * as "thread", its ManagerMixin as `<Class> (manager)` (one start method, forkserver: ManagerMixin's objects live in the
 * manager, whatever starts the processes that use them).
 */
export function forEachType(cpythonClass: string, types: readonly MixinType[], body: (kit: Kit) => void): void {
  if (!isMainProcess()) return;
  const runs: Array<[StartMethod | 'manager', MixinType]> = [];
  if (types.includes('processes')) runs.push(['spawn', 'processes'], ['forkserver', 'processes']);
  if (types.includes('threads')) runs.push(['thread', 'threads']);
  if (types.includes('manager')) runs.push(['manager', 'manager']);
  const selectedRuns = runs.filter(([r]) => selected(r));
  if (selectedRuns.some(([, type]) => type === 'manager')) hookShutdown();
  for (const [run, type] of selectedRuns) {
    describe(`${cpythonClass} (${run})`, () => body(type === 'manager' ? managerKit() : localKit(type, run as StartMethod)));
  }
}
