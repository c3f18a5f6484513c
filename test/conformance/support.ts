// Shared pieces of the conformance layer (CPython's own multiprocessing tests, ported): the start methods
// each class runs in, CPython's timing constants in ms, and a stopwatch. Test files register their cases
// only in the main process, because every child re-imports its main module (the twin of __mp_main__).
import { describe, it as nodeIt, type TestContext, type TestOptions } from 'node:test';
import { getContext, isMainProcess, type Context } from 'forkscope';
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

/** CONFORMANCE_METHODS=spawn,thread narrows a run (to debug one start method). */
function selected(method: StartMethod): boolean {
  const only = process.env.CONFORMANCE_METHODS;
  return !only || only.split(',').includes(method);
}

/**
 * One describe per start method a CPython test class runs in, titled `<Class> (<method>)`; the body gets the
 * context of that start method, as CPython's mixins hand each class its `self.Process`, `self.Queue`…
 */
export function forEachMethod(cpythonClass: string, methods: readonly StartMethod[], body: (ctx: Context, method: StartMethod) => void): void {
  if (!isMainProcess()) return;
  keepAlive();
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

let keeping = false;
/**
 * Holds the test process's event loop open: `await p.join()` of a daemon child does not (a defect this
 * layer reports in processes.test.ts), and an empty loop would end the whole file mid-test, hiding every
 * later result. --test-force-exit ends the process once the tests are done.
 */
function keepAlive(): void {
  if (keeping) return;
  keeping = true;
  setInterval(() => {}, 1 << 30);
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
  if (!(error instanceof Error) || error.name !== name) throw new Error(`expected a rejection named ${name}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
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
  keepAlive();
  describe(cpythonClass, body);
}
