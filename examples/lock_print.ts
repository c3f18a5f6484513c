// Seed 001 (Synchronisation using Lock): ten processes share one Lock so their lines never interleave.
import { Lock, Process, isMainProcess } from 'forkscope';

export async function f(l: Lock, i: number): Promise<void> {
  await l.acquire();
  try {
    console.log('hello world', i);
  } finally {
    l.release();
  }
}

async function main(): Promise<void> {
  const lock = new Lock();
  const processes = [];
  for (let num = 0; num < 10; num++) {
    const p = new Process({ target: f, args: [lock, num] });
    p.start();
    processes.push(p);
  }
  // Python joins non-daemonic children at exit; joining here says so explicitly.
  for (const p of processes) await p.join();
}

if (isMainProcess()) void main();
