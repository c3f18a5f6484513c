// Seed 002 (Pipes): a sender process sends four messages and closes its end; a receiver prints them
// until recv() raises EOFError, which it prints too. Pauses shortened from 1 s to 100 ms.
import { Pipe, Process, isMainProcess, type Connection } from 'forkscope';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function sender(conn: Connection, msg: string[]): Promise<void> {
  for (const i of msg) {
    await sleep(100);
    await conn.send(i);
  }
  conn.close();
}

export async function receive(conn: Connection): Promise<void> {
  for (;;) {
    let msg: unknown;
    try {
      msg = await conn.recv();
    } catch (e) {
      console.log(`${(e as Error).name}: ${(e as Error).message}`);
      break;
    }
    console.log(msg);
  }
}

async function main(): Promise<void> {
  const msg = ['my name is sudh', 'this is my msg to my students ', 'i am taking class for dsm ', 'try to practice all the code '];
  const [conn1, conn2] = Pipe();
  const m1 = new Process({ target: sender, args: [conn2, msg] });
  const m2 = new Process({ target: receive, args: [conn1] });
  m1.start();
  m2.start();
  await m1.join();
  conn2.close();
  await m2.join();
  conn1.close();
}

if (isMainProcess()) void main();
