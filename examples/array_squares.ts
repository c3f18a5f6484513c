// Seed 002: `mp.Array('i', …)` squared in place, one process per index, each sleeping 2 s first.
// Ten processes sleep at once, so the program takes about 2 s, not 20, and the parent sees every write:
// the array is real shared memory, written by the children with no message sent back.
import { Array, Process, isMainProcess } from 'forkscope';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function square(index: number, value: Array<'i'>): Promise<void> {
  await sleep(2000);
  value[index] = value[index]! ** 2;
}

async function main(): Promise<void> {
  const arr = new Array('i', [2, 3, 6, 7, 8, 8, 9, 3, 3, 3]);
  const processes: Process[] = [];
  for (let i = 0; i < 10; i++) {
    const m = new Process({ target: square, args: [i, arr] });
    processes.push(m);
    m.start();
  }
  for (const m of processes) await m.join();
  console.log([...arr]);
}

if (isMainProcess()) void main();
