// One end of a Listener/Client connection: each message is a `u32 length | u8 kind | body` frame on a
// stream socket, read into a Mailbox, so a Connection over it works as over a Pipe's end. It cannot cross
// into another process (Python hands the socket's descriptor over; a child here connects for itself).
import type { Socket } from 'node:net';
import { held } from './broker/broker';
import { Mailbox, type Message } from './broker/mailbox';
import { BrokenPipeError, OSError, PicklingError, ValueError } from './errors';
import type { Endpoint, EndState } from './connection';

const HEADER_BYTES = 5;

export class SocketEnd implements Endpoint {
  readonly #socket: Socket;
  readonly #inbox = new Mailbox();
  /** Bytes read and not yet framed, kept as chunks so a large message is copied once, not per chunk. */
  #chunks: Buffer[] = [];
  #have = 0;
  #header: { length: number; kind: number } | undefined;
  #closed = false;
  #peerGone = false;

  /** @param leftover bytes read past the handshake, the start of the first frames. */
  constructor(socket: Socket, leftover?: Buffer) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    // The peer closed (or died): what was framed is still read, then recv() rejects EOFError.
    socket.on('end', () => this.#gone());
    socket.on('close', () => this.#gone());
    socket.on('error', () => this.#gone());
    if (leftover && leftover.length > 0) this.#read(leftover);
    // An idle connection never keeps the program alive; a pending recv() or send() does (held()).
    socket.unref();
  }

  #gone(): void {
    this.#peerGone = true;
    this.#inbox.end();
  }

  #read(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#have += chunk.length;
    for (;;) {
      if (!this.#header) {
        if (this.#have < HEADER_BYTES) return;
        const head = this.#takeBytes(HEADER_BYTES);
        this.#header = { length: head.readUInt32BE(0), kind: head.readUInt8(4) };
      }
      if (this.#have < this.#header.length) return;
      const message: Message = { kind: this.#header.kind, body: this.#takeBytes(this.#header.length) };
      this.#header = undefined;
      if (!this.#closed) this.#inbox.push(message);
    }
  }

  /** The next `n` buffered bytes, concatenated once. */
  #takeBytes(n: number): Buffer {
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const first = this.#chunks[0]!;
      if (first.length <= left) {
        parts.push(first);
        this.#chunks.shift();
        left -= first.length;
      } else {
        parts.push(first.subarray(0, left));
        this.#chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.#have -= n;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  send(kind: number, body: Uint8Array): Promise<void> {
    if (this.#peerGone) throw new BrokenPipeError('the other end of the connection is closed');
    if (body.byteLength > 0xffff_ffff) throw new ValueError(`a message of ${body.byteLength} bytes is over the 4 GiB limit`);
    const head = Buffer.allocUnsafe(HEADER_BYTES);
    head.writeUInt32BE(body.byteLength, 0);
    head.writeUInt8(kind, 4);
    const socket = this.#socket;
    const written = new Promise<void>((resolve, reject) => {
      socket.cork();
      socket.write(head);
      socket.write(body, (error) => (error ? reject(new BrokenPipeError(error.message)) : resolve()));
      socket.uncork();
    });
    return held(written);
  }

  take(): Message | undefined | Promise<Message | undefined> {
    return this.#inbox.take();
  }

  watch(timeout: number | null): { promise: Promise<boolean>; cancel: () => void } {
    return this.#inbox.watch(timeout);
  }

  poll(timeout: number | null): Promise<boolean> {
    const { promise } = this.watch(timeout);
    return this.#inbox.ready ? promise : held(promise);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox.close(new OSError('the connection was closed'));
    // What was written still goes out; then the socket is gone for good.
    this.#socket.end(() => this.#socket.destroy());
  }

  duplicate(): EndState {
    throw new PicklingError(
      'a Connection from Listener.accept() or Client() cannot cross into another process: pass the address and connect from there, or use a Pipe',
    );
  }
}
