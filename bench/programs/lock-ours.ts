// The forkscope side of bench/lock.bench.ts, as its own program: uncontended Lock acquire+release in the
// lock's creator, and in a child (each acquire a round trip to the creator). Prints two rates, ops/s.
import { Lock, Process, Queue, isMainProcess } from 'forkscope';

async function cycles(lock: Lock, n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    lock.release();
  }
  return n / ((performance.now() - t) / 1000);
}

/** Runs in the child: reports its rate through a queue. */
export async function remoteCycles(lock: Lock, out: Queue<number>, n: number): Promise<void> {
  await out.put(await cycles(lock, n));
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200_000);
  const lock = new Lock();
  const local = await cycles(lock, n);
  const out = new Queue<number>();
  const p = new Process({ target: remoteCycles, args: [lock, out, Math.ceil(n / 20)] });
  p.start();
  const remote = await out.get();
  await p.join();
  console.log(`${local} ${remote}`);
}

if (isMainProcess()) void main();
