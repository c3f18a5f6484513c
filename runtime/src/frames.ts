// Length-prefixed structured-clone frames over a stream: the pool's data pipe to a spawned worker.
// Node's IPC channel re-scans its buffer as a large message arrives and costs ~1 µs per item; this
// costs what v8.serialize costs. Node's modules only.
import { serialize, deserialize } from 'node:v8';
import type { Duplex } from 'node:stream';

const HEADER = 4;

/** Writes one frame; throws synchronously (DataCloneError) when the message cannot be cloned. */
export function writeFrame(stream: Duplex, message: unknown, callback?: () => void): void {
  const body = serialize(message);
  const header = Buffer.allocUnsafe(HEADER);
  header.writeUInt32BE(body.length, 0);
  stream.cork();
  stream.write(header);
  stream.write(body, callback);
  stream.uncork();
}

/** Calls `onMessage` for every complete frame; chunks are joined once per frame, never re-scanned. */
export function readFrames(stream: Duplex, onMessage: (message: unknown) => void): void {
  let chunks: Buffer[] = [];
  let buffered = 0;
  let need = -1;
  const take = (n: number): Buffer => {
    const whole = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, buffered);
    const out = whole.subarray(0, n);
    const rest = whole.subarray(n);
    chunks = rest.length > 0 ? [rest] : [];
    buffered = rest.length;
    return out;
  };
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    buffered += chunk.length;
    for (;;) {
      if (need < 0) {
        if (buffered < HEADER) return;
        need = take(HEADER).readUInt32BE(0);
      }
      if (buffered < need) return;
      const body = take(need);
      need = -1;
      onMessage(deserialize(body));
    }
  });
}
