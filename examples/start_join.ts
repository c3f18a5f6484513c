// Seed 002: two task1 processes; started and joined, they sleep side by side, so the program takes about
// one sleep, not two. FORKSCOPE_EXAMPLE_SLEEP (seconds) shortens the sleep for tests.
import { Process, isMainProcess } from 'forkscope';

const SLEEP = Number(process.env.FORKSCOPE_EXAMPLE_SLEEP ?? 3);

export async function task1(sleepSec: number): Promise<void> {
  console.log(`Sleeping for ${sleepSec} seconds`);
  await new Promise((r) => setTimeout(r, sleepSec * 1000));
  console.log(`Finished sleeping: ${sleepSec}`);
}

async function main(): Promise<void> {
  const start = performance.now();
  const p1 = new Process({ target: task1, args: [SLEEP] });
  const p2 = new Process({ target: task1, args: [SLEEP] });
  p1.start();
  p2.start();
  await p1.join();
  await p2.join();
  const finish = performance.now();
  console.log(`Program finished in ${((finish - start) / 1000).toFixed(3)} seconds`);
}

if (isMainProcess()) void main();
