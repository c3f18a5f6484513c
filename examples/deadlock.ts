// Two processes, two locks, taken in opposite order: the classic deadlock, for Forkscope to find.
// Run it with `npx forkscope run examples/deadlock.ts`: the hub reports the cycle with both call sites.
// Each second acquire has a timeout so the program still ends (Python: lock.acquire(timeout=…)).
import { Lock, Process, isMainProcess } from 'forkscope';

const HOLD_MS = 500;
const WAIT_MS = Number(process.env.DEADLOCK_WAIT_MS ?? 4_000);

export async function transfer(name: string, first: Lock, second: Lock): Promise<void> {
  await first.acquire();
  try {
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    const gotBoth = await second.acquire({ timeout: WAIT_MS });
    if (gotBoth) second.release();
    console.log(`${name}: ${gotBoth ? 'got both locks' : 'gave up waiting for the second lock'}`);
  } finally {
    first.release();
  }
}

async function main(): Promise<void> {
  const accounts = new Lock();
  const ledger = new Lock();
  const a = new Process({ target: transfer, args: ['alice', accounts, ledger], name: 'alice' });
  const b = new Process({ target: transfer, args: ['bob', ledger, accounts], name: 'bob' });
  a.start();
  b.start();
  await a.join();
  await b.join();
  console.log('done');
}

if (isMainProcess()) void main();
