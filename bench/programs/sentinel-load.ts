// A mixed CPU workload (calls, allocation, JSON, sorting, thrown-and-caught errors) timed in-process, for
// bench/debugSentinel.bench.ts. argv[2]: `none` (no inspector), `open` (a loopback inspector, no session), or
// `sentinel` (the inspector plus the runtime's debugger sentinel, an in-thread session with the Debugger domain on).
// Prints JSON.
import * as inspector from 'node:inspector';
import { startDebugSentinel } from '../../runtime/src/debugSentinel';

const mode = process.argv[2];
const t0 = performance.now();
if (mode !== 'none') inspector.open(0, '127.0.0.1', false);
if (mode === 'sentinel') startDebugSentinel();
const setupMs = performance.now() - t0;

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function work(): number {
  let acc = fib(24);
  const rows = Array.from({ length: 2_000 }, (_, i) => ({ id: i, name: `row-${i}`, tags: [i % 7, i % 11], score: Math.sin(i) }));
  acc += JSON.parse(JSON.stringify(rows)).length;
  acc += rows.sort((a, b) => a.score - b.score)[0].id;
  for (let i = 0; i < 200; i++) {
    try {
      throw new Error(`e${i}`);
    } catch (error) {
      acc += (error as Error).message.length;
    }
  }
  return acc;
}

// Measured after a moment, as a program runs after its start-up.
setTimeout(() => {
  for (let i = 0; i < 20; i++) work();
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const start = performance.now();
    for (let i = 0; i < 40; i++) work();
    rounds.push(performance.now() - start);
  }
  rounds.sort((a, b) => a - b);
  console.log(JSON.stringify({ mode, setupMs, workMs: rounds[3] }));
  process.exit(0);
}, 300);
