// Seed 001: two processes, funcA('bob') and funcB('jerry'), started then joined.
import { Process, isMainProcess } from 'forkscope';

export function funcA(name: string): void {
  console.log('hello', name);
}

export function funcB(name: string): void {
  console.log('hello', name);
}

async function main(): Promise<void> {
  const procs: Process[] = [];
  const p1 = new Process({ target: funcA, args: ['bob'] });
  p1.start();
  procs.push(p1);
  const p2 = new Process({ target: funcB, args: ['jerry'] });
  p2.start();
  procs.push(p2);
  for (const p of procs) await p.join();
}

if (isMainProcess()) void main();
