// The forkscope side of bench/pipe.bench.ts, as its own program. `pipe`: a child sends N 1 MiB payloads
// over a Pipe end; `raw`: the same bytes over a bare Unix socket between the same two processes (the
// floor). Prints bytes per second of the stream, after the first payload (start-up excluded).
import { createServer, createConnection } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipe, Process, isMainProcess, type Connection } from 'forkscope';

const SIZE = 1024 * 1024;

/** The sender: runs in the child. */
export async function sendPayloads(conn: Connection, n: number): Promise<void> {
  const payload = Buffer.alloc(SIZE, 120);
  for (let i = 0; i < n; i++) await conn.sendBytes(payload);
  conn.close();
}

/** The raw sender: writes n payloads to a Unix socket, respecting backpressure. */
export async function sendRaw(address: string, n: number): Promise<void> {
  const payload = Buffer.alloc(SIZE, 120);
  const socket = createConnection(address);
  await new Promise((resolve) => socket.once('connect', resolve));
  for (let i = 0; i < n; i++) {
    if (!socket.write(payload)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await new Promise<void>((resolve) => socket.end(resolve));
}

async function pipe(n: number): Promise<number> {
  const [receiver, sender] = Pipe({ duplex: false });
  const p = new Process({ target: sendPayloads, args: [sender, n] });
  p.start();
  sender.close();
  await receiver.recvBytes();
  const t = performance.now();
  let bytes = 0;
  for (let i = 1; i < n; i++) bytes += (await receiver.recvBytes()).length;
  const dt = (performance.now() - t) / 1000;
  await p.join();
  return bytes / dt;
}

async function raw(n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-bench-'));
  const address = join(dir, 's');
  let t = 0;
  let bytes = 0;
  const done = new Promise<number>((resolve) => {
    const server = createServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        if (t === 0 && (bytes += chunk.length) >= SIZE) {
          t = performance.now();
          bytes = 0;
        } else if (t !== 0) bytes += chunk.length;
      });
      socket.on('end', () => {
        resolve(bytes / ((performance.now() - t) / 1000));
        server.close();
      });
    });
    server.listen(address);
  });
  const p = new Process({ target: sendRaw, args: [address, n] });
  p.start();
  const rate = await done;
  await p.join();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  const n = Number(process.argv[3] ?? 300);
  console.log(mode === 'raw' ? await raw(n) : await pipe(n));
}

if (isMainProcess()) void main();
