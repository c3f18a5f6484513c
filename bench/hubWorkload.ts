// The workload bench/hub.bench.ts runs with and without a hub: a Queue round trip in one process and a
// Pool.map over two spawned workers. Prints one JSON line of timings in ms: wall time, and CPU time of this
// process (and of the pool's workers), which a loaded machine disturbs far less. Not a bench file itself.
import { readFileSync } from 'node:fs';
import { Pool, Queue, isMainProcess } from 'forkscope';

export function square(x: number): number {
  return x * x;
}

/** CPU ms this process has used. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU ms a process has used (Linux, in clock ticks of 10 ms; 0 elsewhere). */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const items = Number(process.argv[2] ?? 20_000);
  const tasks = Number(process.argv[3] ?? 2_000);
  const q = new Queue<number>();
  let t = performance.now();
  let c = cpuMs();
  for (let i = 0; i < items; i++) await q.put(i);
  for (let i = 0; i < items; i++) await q.get();
  const queueMs = performance.now() - t;
  const queueCpuMs = cpuMs() - c;
  q.close();
  const pool = new Pool(2);
  await pool.map(square, [1, 2]); // warm: both workers up
  const workers = pool._workers.map((w) => w.pid);
  const workersCpu = workers.map(cpuMsOf);
  t = performance.now();
  c = cpuMs();
  await pool.map(
    square,
    Array.from({ length: tasks }, (_, i) => i),
    { chunksize: 1 },
  );
  const poolMs = performance.now() - t;
  const poolCpuMs = cpuMs() - c;
  const poolWorkersCpuMs = workers.reduce((n, pid, i) => n + cpuMsOf(pid) - workersCpu[i]!, 0);
  pool.close();
  await pool.join();
  // The whole program's CPU, start-up included (the objects' first reports, the hello).
  console.log(JSON.stringify({ queueMs, poolMs, queueCpuMs, poolCpuMs, poolWorkersCpuMs, programCpuMs: cpuMs() }));
}

if (isMainProcess()) void main();
