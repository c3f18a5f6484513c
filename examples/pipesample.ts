// Seed 000 (pipesample.py): the parent sends five items over a Pipe before starting the child, which
// prints each until it receives a falsy one. The items wait in the pipe, as in Python.
import { Pipe, Process, isMainProcess, type Connection } from 'forkscope';

export class CustomClass {}

export async function work(connection: Connection): Promise<void> {
  for (;;) {
    const instance = await connection.recv();
    if (instance) console.log(`Child:Receive:${format(instance)}`);
    else return;
  }
}

/** Python's str() of the items, near enough: a class instance crosses as a plain object. */
function format(item: unknown): string {
  return typeof item === 'object' ? JSON.stringify(item) : String(item);
}

async function main(): Promise<void> {
  const [parentConn, childConn] = Pipe();
  const child = new Process({ target: work, args: [childConn] });
  for (const item of [42, 'some string', { one: 1 }, new CustomClass(), null]) {
    console.log(`parent:Send:${format(item)}`);
    await parentConn.send(item);
  }
  child.start();
  await child.join();
}

if (isMainProcess()) void main();
