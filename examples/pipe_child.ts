// Seed 004 (Pipe): Pipe() returns two connected Connection objects; the child sends a list over its end
// and closes it, the parent prints what it receives.
import { Pipe, Process, isMainProcess, type Connection } from 'forkscope';

export async function f(conn: Connection): Promise<void> {
  await conn.send([42, null, 'hello']);
  conn.close();
}

async function main(): Promise<void> {
  const [parentConn, childConn] = Pipe();
  const p = new Process({ target: f, args: [childConn] });
  p.start();
  console.log(await parentConn.recv()); // [ 42, null, 'hello' ]
  await p.join();
}

if (isMainProcess()) void main();
