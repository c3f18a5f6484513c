// The multiprocessing documentation's Listener/Client example in TypeScript: a Listener with an authkey sends
// an object and bytes; a Client (here a child process) receives them, the last into a preallocated array.
// Python also sends the type `float`; a builtin is not an exported function, so it cannot travel.
import { Process, connection, isMainProcess, type ConnectionAddress } from 'forkscope';

const { Listener, Client } = connection;
const authkey = Buffer.from('secret password');

/** The client side, run in a child process. */
export async function client(address: ConnectionAddress): Promise<void> {
  using conn = await Client(address, { authkey });
  console.log(await conn.recv()); // => [ 2.25, null, 'junk' ]
  console.log((await conn.recvBytes()).toString()); // => hello
  const arr = new Int32Array(5);
  console.log(await conn.recvBytesInto(arr)); // => 8
  console.log(arr); // => Int32Array(5) [ 42, 1729, 0, 0, 0 ]
}

async function main(): Promise<void> {
  // Family deduced as AF_INET; port 0 picks a free one, known once listening (Node cannot bind synchronously).
  using listener = await Listener.create(['localhost', 0], { authkey });
  const p = new Process({ target: client, args: [listener.address] });
  p.start();
  {
    using conn = await listener.accept();
    console.log('connection accepted from', listener.lastAccepted !== undefined ? 'a client' : 'nowhere');
    await conn.send([2.25, null, 'junk']);
    await conn.sendBytes(Buffer.from('hello'));
    await conn.sendBytes(new Uint8Array(new Int32Array([42, 1729]).buffer));
  }
  await p.join();
}

if (isMainProcess()) void main();
