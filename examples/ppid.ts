// Seed 004: a Process printing its parent's pid (os.getppid()) and its own (os.getpid()).
import { Process, isMainProcess } from 'forkscope';

export function f(name: string): void {
  console.log(`parent proecss : ${process.ppid}`);
  console.log(`process : ${process.pid}`);
  console.log(`hello, ${name}`);
}

async function main(): Promise<void> {
  const p = new Process({ target: f, args: ['bob'] });
  p.start();
  await p.join();
}

if (isMainProcess()) void main();
