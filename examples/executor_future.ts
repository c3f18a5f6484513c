// Seed 000 ("Executor and Future classes"): submit() returns a Future at once; result() waits for it;
// asCompleted() yields futures as they finish.
import { ProcessPoolExecutor, asCompleted, isMainProcess } from 'forkscope';

export function cube(x: number): number {
  return x ** 3;
}

async function main(): Promise<void> {
  await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
  const future = executor.submit(cube, 3);
  console.log(`done right after submit: ${future.done()}`);
  console.log(`result: ${await future.result()}`);
  const futures = [1, 2, 3].map((x) => executor.submit(cube, x));
  const results: number[] = [];
  for await (const f of asCompleted(futures)) results.push(await f.result());
  console.log(`as completed: ${results.sort((a, b) => a - b).join(', ')}`);
}

if (isMainProcess()) void main();
