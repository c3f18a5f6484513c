// Python's Doc/includes/mp_pool.py in TypeScript: a Pool of 4 running (func, args) tasks through applyAsync,
// imap, imapUnordered and map, small benchmarks, error handling, timeouts, callbacks, close() and terminate().
// `npx tsx examples/mpPool.ts [processes|threads]` (threads: the "thread" start method).
import { Pool, TimeoutError, cpuCount, currentProcess, isMainProcess, setStartMethod } from 'forkscope';
import { setTimeout as sleep } from 'node:timers/promises';

type Task = [(a: number, b: number) => Promise<number>, [number, number]];
const print = (...parts: unknown[]): void => void process.stdout.write(`${parts.join(' ')}\n`);
const write = (text: string): void => void process.stdout.write(text);

/** Functions used by test code. */
export async function calculate(func: Task[0], args: Task[1]): Promise<string> {
  const result = await func(...args);
  return `${currentProcess().name} says that ${func.name}(${args.join(', ')}) = ${result}`;
}

export function calculatestar(args: Task): Promise<string> {
  return calculate(...args);
}

export async function mul(a: number, b: number): Promise<number> {
  await sleep(500 * Math.random());
  return a * b;
}

export async function plus(a: number, b: number): Promise<number> {
  await sleep(500 * Math.random());
  return a + b;
}

/** 1.0 / (x - 5.0), raising ZeroDivisionError as Python does at x = 5. */
export function f(x: number): number {
  if (x === 5) throw Object.assign(new Error('float division by zero'), { name: 'ZeroDivisionError' });
  return 1.0 / (x - 5.0);
}

export function pow3(x: number): number {
  return x ** 3;
}

export function noop(_x: unknown): void {}

export async function nap(ms: number): Promise<void> {
  await sleep(ms);
}

const isZeroDivision = (e: unknown): boolean => e instanceof Error && e.name === 'ZeroDivisionError';
const seconds = (t: number): string => ((performance.now() - t) / 1000).toString();
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

async function list<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function test(): Promise<void> {
  print(`cpu_count() = ${cpuCount()}\n`);

  // Create pool
  const PROCESSES = 4;
  print(`Creating pool with ${PROCESSES} processes\n`);
  let pool = new Pool(PROCESSES);
  print(`pool = ${pool}`);
  print();

  // Tests
  const TASKS: Task[] = [...range(10).map((i): Task => [mul, [i, 7]]), ...range(10).map((i): Task => [plus, [i, 8]])];
  const results = TASKS.map((t) => pool.applyAsync(calculate, t));
  const imapIt = pool.imap(calculatestar, TASKS);
  const imapUnorderedIt = pool.imapUnordered(calculatestar, TASKS);

  print('Ordered results using pool.apply_async():');
  for (const r of results) print('\t', await r.get());
  print();

  print('Ordered results using pool.imap():');
  for await (const x of imapIt) print('\t', x);
  print();

  print('Unordered results using pool.imap_unordered():');
  for await (const x of imapUnorderedIt) print('\t', x);
  print();

  print('Ordered results using pool.map() --- will block till complete:');
  for (const x of await pool.map(calculatestar, TASKS)) print('\t', x);
  print();

  // Simple benchmarks
  const N = 100000;
  print('def pow3(x): return x**3');
  let t = performance.now();
  let A: unknown[] = range(N).map(pow3);
  print(`\tmap(pow3, range(${N})):\n\t\t${seconds(t)} seconds`);
  t = performance.now();
  let B: unknown[] = await pool.map(pow3, range(N));
  print(`\tpool.map(pow3, range(${N})):\n\t\t${seconds(t)} seconds`);
  t = performance.now();
  let C: unknown[] = await list(pool.imap(pow3, range(N), { chunksize: N / 8 }));
  print(`\tlist(pool.imap(pow3, range(${N}), chunksize=${N / 8})):\n\t\t${seconds(t)} seconds`);
  if (JSON.stringify(A) !== JSON.stringify(B) || JSON.stringify(B) !== JSON.stringify(C)) throw new Error(`${A.length} ${B.length} ${C.length}`);
  print();

  const L = Array.from({ length: 1000000 }, () => null);
  print('def noop(x): pass');
  print('L = [None] * 1000000');
  t = performance.now();
  A = L.map(noop);
  print(`\tmap(noop, L):\n\t\t${seconds(t)} seconds`);
  t = performance.now();
  B = await pool.map(noop, L);
  print(`\tpool.map(noop, L):\n\t\t${seconds(t)} seconds`);
  t = performance.now();
  C = await list(pool.imap(noop, L, { chunksize: L.length / 8 }));
  print(`\tlist(pool.imap(noop, L, chunksize=${L.length / 8})):\n\t\t${seconds(t)} seconds`);
  if (A.length !== B.length || B.length !== C.length) throw new Error(`${A.length} ${B.length} ${C.length}`);
  print();

  // Test error handling
  print('Testing error handling:');
  try {
    print(await pool.apply(f, [5]));
    throw new Error('expected ZeroDivisionError');
  } catch (e) {
    if (!isZeroDivision(e)) throw e;
    print('\tGot ZeroDivisionError as expected from pool.apply()');
  }
  try {
    print(await pool.map(f, range(10)));
    throw new Error('expected ZeroDivisionError');
  } catch (e) {
    if (!isZeroDivision(e)) throw e;
    print('\tGot ZeroDivisionError as expected from pool.map()');
  }
  try {
    print(await list(pool.imap(f, range(10))));
    throw new Error('expected ZeroDivisionError');
  } catch (e) {
    if (!isZeroDivision(e)) throw e;
    print('\tGot ZeroDivisionError as expected from list(pool.imap())');
  }
  const it = pool.imap(f, range(10));
  let i = 0;
  for (; i < 10; i++) {
    try {
      const { done } = await it.next();
      if (done) break;
      if (i === 5) throw new Error('expected ZeroDivisionError');
    } catch (e) {
      if (!isZeroDivision(e)) throw e;
    }
  }
  if (i !== 10) throw new Error(`stopped at ${i}`);
  print('\tGot ZeroDivisionError as expected from IMapIterator.next()');
  print();

  // Testing timeouts
  write('Testing ApplyResult.get() with timeout: ');
  const res = pool.applyAsync(calculate, TASKS[0]);
  for (;;) {
    try {
      write(`\n\t${await res.get({ timeout: 20 })}`);
      break;
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      write('.');
    }
  }
  print();
  print();

  write('Testing IMapIterator.next() with timeout: ');
  const it2 = pool.imap(calculatestar, TASKS) as AsyncIterableIterator<string> & { next(options?: { timeout?: number }): Promise<IteratorResult<string>> };
  for (;;) {
    try {
      const { value, done } = await it2.next({ timeout: 20 });
      if (done) break;
      write(`\n\t${value}`);
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      write('.');
    }
  }
  print();
  print();

  // Testing callback
  print('Testing callback:');
  const callbackA: number[] = [];
  const callbackB = [56, 0, 1, 8, 27, 64, 125, 216, 343, 512, 729];
  await pool.applyAsync(mul, [7, 8], { callback: (x) => void callbackA.push(x) }).wait();
  await pool.mapAsync(pow3, range(10), { callback: (xs) => void callbackA.push(...xs) }).wait();
  if (JSON.stringify(callbackA) === JSON.stringify(callbackB)) print('\tcallbacks succeeded\n');
  else print(`\t*** callbacks failed\n\t\t${callbackA} != ${callbackB}\n`);

  // Check close() methods
  print('Testing close():');
  const result = pool.applyAsync(nap, [500]);
  pool.close();
  await pool.join();
  if ((await result.get()) !== undefined) throw new Error('nap returned a value');
  print('\tclose() succeeded\n');

  // Check terminate() method
  print('Testing terminate():');
  pool = new Pool(2);
  const DELTA = 100;
  await pool.apply(pow3, [2]);
  const pending = range(100).map(() => pool.applyAsync(nap, [DELTA]));
  for (const p of pending) p.catch(() => {});
  pool.terminate();
  await pool.join();
  print('\tterminate() succeeded\n');
  // Python's last section ("Testing garbage collection": a pool dropped mid-work ends its workers when
  // collected) has no twin: JavaScript has no deterministic collection; `using` ends a pool instead.
}

if (isMainProcess()) {
  const mode = process.argv[2] ?? 'processes';
  if (mode === 'processes') print(' Using processes '.padStart(48, '-').padEnd(79, '-'));
  else if (mode === 'threads') {
    print(' Using threads '.padStart(47, '-').padEnd(79, '-'));
    setStartMethod('thread');
  } else {
    print(`Usage:\n\t${process.argv[1]} [processes | threads]`);
    process.exit(2);
  }
  void test();
}
