// Seed 001: a Manager() dict and list changed by a child process through proxies.
// The manager is a server process holding both objects; every proxy call is a message to it, so
// proxy methods return Promises where Python's block.
import { Manager, Process, isMainProcess, type DictProxy, type ListProxy } from 'forkscope';

export async function f(d: DictProxy, l: ListProxy<number>): Promise<void> {
  await d.set(1, '1');
  await d.set('2', 2);
  await d.set(0.25, null);
  await l.reverse();
}

async function main(): Promise<void> {
  await using manager = await Manager();
  const d = await manager.dict();
  const l = await manager.list([...Array(10).keys()]);

  const p = new Process({ target: f, args: [d, l] });
  p.start();
  await p.join();

  console.log(new Map(await d.items()));
  console.log(await l.copy());
}

if (isMainProcess()) void main();
