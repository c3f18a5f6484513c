// Seed 000/001 (valuearray.py): a Value('d') and an Array('i', range(10)) changed by a child process.
// Both live in shared memory, so the parent reads the child's writes directly after join().
import { Array, Process, Value, isMainProcess } from 'forkscope';

export function f(n: Value<'d'>, a: Array<'i'>): void {
  n.value = 3.141592;
  for (let i = 0; i < a.length; i++) a[i] = -a[i]!;
}

async function main(): Promise<void> {
  const num = new Value('d', 0.0);
  const arr = new Array('i', [...globalThis.Array(10).keys()]);

  const p = new Process({ target: f, args: [num, arr] });
  p.start();
  await p.join();

  console.log(num.value);
  console.log(arr.slice());
}

if (isMainProcess()) void main();
