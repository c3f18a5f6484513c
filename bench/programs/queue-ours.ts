// The forkscope side of bench/queue.bench.ts, run as its own program (a child re-imports the main module,
// so the benchmark runner must not be it). Prints messages per second.
import { Process, Queue, isMainProcess } from 'forkscope';

/** The producer: runs in the child. */
export async function produce(q: Queue<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await q.put(i);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200_000);
  const q = new Queue<number>();
  const p = new Process({ target: produce, args: [q, n] });
  p.start();
  await q.get(); // the child is up: time only the stream
  const t = performance.now();
  for (let i = 1; i < n; i++) await q.get();
  const dt = (performance.now() - t) / 1000;
  await p.join();
  console.log((n - 1) / dt);
}

if (isMainProcess()) void main();
