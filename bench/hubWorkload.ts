// The workload bench/hub.bench.ts runs with and without a hub: a Queue round trip in one process and a
// Pool.map over two spawned workers. Prints one JSON line of timings in ms. Not a bench file itself.
import { Pool, Queue, isMainProcess } from 'forkscope';

export function square(x: number): number {
  return x * x;
}

async function main(): Promise<void> {
  const items = Number(process.argv[2] ?? 20_000);
  const tasks = Number(process.argv[3] ?? 2_000);
  const q = new Queue<number>();
  let t = performance.now();
  for (let i = 0; i < items; i++) await q.put(i);
  for (let i = 0; i < items; i++) await q.get();
  const queueMs = performance.now() - t;
  q.close();
  const pool = new Pool(2);
  await pool.map(square, [1, 2]); // warm: both workers up
  t = performance.now();
  await pool.map(
    square,
    Array.from({ length: tasks }, (_, i) => i),
    { chunksize: 1 },
  );
  const poolMs = performance.now() - t;
  pool.close();
  await pool.join();
  console.log(JSON.stringify({ queueMs, poolMs }));
}

if (isMainProcess()) void main();
