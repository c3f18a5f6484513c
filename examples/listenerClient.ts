// The multiprocessing documentation's Listener/Client example in TypeScript: a Listener with an authkey sends
// an object and bytes; a Client (here a child process) receives them, the last into a preallocated array.
// Python also sends the type `float`; a builtin is not an exported function, so it cannot travel.
import { Process, connection, isMainProcess, type Connection } from 'forkscope';

const { Listener, Client } = connection as unknown as {
  Listener: new (address: unknown, options?: { authkey?: Buffer }) => { address: unknown; accept(): Promise<Connection>; lastAccepted?: unknown; close(): void } & Disposable;
  Client: (address: unknown, options?: { authkey?: Buffer }) => Promise<Connection & Disposable>;
};
const authkey = Buffer.from('secret password');

/** The client side, run in a child process. */
export async function client(address: unknown): Promise<void> {
  using conn = await Client(address, { authkey });
  console.log(await conn.recv()); // => [ 2.25, null, 'junk' ]
  console.log((await conn.recvBytes()).toString()); // => hello
  const arr = new Int32Array(5);
  console.log(await (conn as unknown as { recvBytesInto(b: Int32Array): Promise<number> }).recvBytesInto(arr)); // => 8
  console.log(arr); // => Int32Array(5) [ 42, 1729, 0, 0, 0 ]
}

async function main(): Promise<void> {
  const address = ['localhost', 0]; // family is deduced to be 'AF_INET'; port 0 picks a free one
  using listener = new Listener(address, { authkey });
  const p = new Process({ target: client, args: [listener.address] });
  p.start();
  {
    using conn = (await listener.accept()) as Connection & Disposable;
    console.log('connection accepted from', listener.lastAccepted !== undefined ? 'a client' : 'nowhere');
    await conn.send([2.25, null, 'junk']);
    await conn.sendBytes(Buffer.from('hello'));
    await conn.sendBytes(new Uint8Array(new Int32Array([42, 1729]).buffer));
  }
  await p.join();
}

if (isMainProcess()) void main();
