// Seed 004 ("Context and start method"): setStartMethod('spawn') once, then a Queue a child puts 'hello' on;
// and the same through a context object, getContext('spawn'), whose Queue and Process belong together.
import { Process, Queue, getContext, isMainProcess, setStartMethod } from 'forkscope';

export async function foo(q: Queue<string>): Promise<void> {
  await q.put('hello');
}

async function main(): Promise<void> {
  setStartMethod('spawn');
  const q = new Queue<string>();
  const p = new Process({ target: foo, args: [q] });
  p.start();
  console.log(await q.get());
  await p.join();

  const ctx = getContext('spawn');
  const q2 = new ctx.Queue<string>();
  const p2 = new ctx.Process({ target: foo, args: [q2] });
  p2.start();
  console.log(await q2.get());
  await p2.join();
}

if (isMainProcess()) void main();
