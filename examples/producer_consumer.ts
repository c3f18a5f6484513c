// Seed 002 (Queue): a producer puts five names with pauses, a consumer gets them until it sees null.
// The Python original loops `while not queue.empty()` and so can stop early; this twin ends on the
// sentinel the original's comment intends. The pauses are shortened (ms, not seconds).
import { Process, Queue, isMainProcess } from 'forkscope';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function producer(q: Queue<string | null>): Promise<void> {
  for (const i of ['sudh', 'kumar', 'pwskills', 'krish', 'naik']) {
    await sleep(150);
    console.log(`Entry: ${i}`);
    await q.put(i);
  }
  await q.put(null);
}

export async function consume(q: Queue<string | null>): Promise<void> {
  for (;;) {
    await sleep(50);
    const item = await q.get();
    if (item === null) break;
    console.log(`Exit: ${item}`);
  }
}

async function main(): Promise<void> {
  const queue = new Queue<string | null>();
  const m1 = new Process({ target: producer, args: [queue] });
  const m2 = new Process({ target: consume, args: [queue] });
  m1.start();
  m2.start();
  await queue.put('xyz');
  await m1.join();
  await m2.join();
}

if (isMainProcess()) void main();
