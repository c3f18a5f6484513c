// Python's Doc/includes/mp_workers.py in TypeScript: four worker processes take (func, args) tasks from one
// Queue and put their results on another; the functions travel by reference, as pickle sends them.
import { Process, Queue, currentProcess, isMainProcess } from 'forkscope';
import { setTimeout as sleep } from 'node:timers/promises';

type Task = [(a: number, b: number) => Promise<number>, [number, number]];

/** Function run by worker processes. */
export async function worker(input: Queue<Task | 'STOP'>, output: Queue<string>): Promise<void> {
  for (let task = await input.get(); task !== 'STOP'; task = await input.get()) {
    const [func, args] = task;
    await output.put(await calculate(func, args));
  }
}

/** Function used to calculate result. */
async function calculate(func: Task[0], args: Task[1]): Promise<string> {
  const result = await func(...args);
  return `${currentProcess().name} says that ${func.name}(${args.join(', ')}) = ${result}`;
}

/** Functions referenced by tasks. */
export async function mul(a: number, b: number): Promise<number> {
  await sleep(500 * Math.random());
  return a * b;
}

export async function plus(a: number, b: number): Promise<number> {
  await sleep(500 * Math.random());
  return a + b;
}

async function test(): Promise<void> {
  const NUMBER_OF_PROCESSES = 4;
  const TASKS1: Task[] = Array.from({ length: 20 }, (_, i) => [mul, [i, 7]]);
  const TASKS2: Task[] = Array.from({ length: 10 }, (_, i) => [plus, [i, 8]]);

  // Create queues
  const taskQueue = new Queue<Task | 'STOP'>();
  const doneQueue = new Queue<string>();

  // Submit tasks
  for (const task of TASKS1) await taskQueue.put(task);

  // Start worker processes
  for (let i = 0; i < NUMBER_OF_PROCESSES; i++) new Process({ target: worker, args: [taskQueue, doneQueue] }).start();

  // Get and print results
  console.log('Unordered results:');
  for (let i = 0; i < TASKS1.length; i++) console.log('\t', await doneQueue.get());

  // Add more tasks using `put()`
  for (const task of TASKS2) await taskQueue.put(task);

  // Get and print some more results
  for (let i = 0; i < TASKS2.length; i++) console.log('\t', await doneQueue.get());

  // Tell child processes to stop
  for (let i = 0; i < NUMBER_OF_PROCESSES; i++) await taskQueue.put('STOP');
}

if (isMainProcess()) void test();
