// Seeds 001 and 004: `with Pool(5) as p: print(p.map(f, [1, 2, 3]))`.
import { Pool, isMainProcess } from 'forkscope';

export function f(x: number): number {
  return x * x;
}

async function main(): Promise<void> {
  await using p = new Pool(5);
  // Printed as Python prints a list.
  console.log(`[${(await p.map(f, [1, 2, 3])).join(', ')}]`);
}

if (isMainProcess()) void main();
