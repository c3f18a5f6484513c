// The forkscope side of bench/lock.bench.ts, as its own program: uncontended Lock and Semaphore
// acquire+release in their creator, and in a child. Usage: lock-ours.ts <creator cycles> [<child cycles>].
// Prints four rates, ops/s: Lock here, Lock in the child, Semaphore here, Semaphore in the child.
import { Lock, Process, Queue, Semaphore, isMainProcess } from 'forkscope';

async function cycles(lock: Lock, n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    lock.release();
  }
  return n / ((performance.now() - t) / 1000);
}

/** The same loop for a Semaphore (its own function, so neither call site sees two classes). */
async function semCycles(sem: Semaphore, n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    await sem.acquire();
    sem.release();
  }
  return n / ((performance.now() - t) / 1000);
}

/** Runs in the child: reports its rates through a queue. */
export async function remoteCycles(lock: Lock, sem: Semaphore, out: Queue<number[]>, n: number): Promise<void> {
  await out.put([await cycles(lock, n), await semCycles(sem, n)]);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200_000);
  const childN = Number(process.argv[3] ?? n);
  const lock = new Lock();
  const sem = new Semaphore(1);
  const local = await cycles(lock, n);
  const localSem = await semCycles(sem, n);
  const out = new Queue<number[]>();
  const p = new Process({ target: remoteCycles, args: [lock, sem, out, childN] });
  p.start();
  const [remote, remoteSem] = await out.get();
  await p.join();
  console.log(`${local} ${remote} ${localSem} ${remoteSem}`);
}

if (isMainProcess()) void main();
