// The manager's wire: the HMAC challenge-response both ways that opens every connection (the key never
// crosses; each side proves itself on the other's fresh nonce) in small JSON frames parsed as data only
// (safeJson.ts: no key can reach a prototype), then binary frames of v8 bytes (managers/codec.ts), all
// length-prefixed (framing.ts) with hard size caps.
// Node's modules only; shared by the manager server and its clients.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { AuthenticationError } from '../errors';
import { FrameSplitter, jsonFrame } from '../framing';
import { parseData } from '../safeJson';

/** Largest frame before authentication: a handshake message is well under this. */
export const PRE_AUTH_MAX = 512;
/** Largest frame after authentication. */
export const FRAME_MAX = 64 * 1024 * 1024;
/** How long a peer may take to finish the handshake, in ms. */
export const AUTH_TIMEOUT_MS = 3000;

/** Splits a byte stream into parsed JSON frames; any oversized or malformed frame calls `onError` once. */
export class FrameReader {
  readonly #splitter: FrameSplitter;

  constructor(
    max: number,
    readonly onFrame: (message: unknown) => void,
    readonly onError: (error: Error) => void,
  ) {
    this.#splitter = new FrameSplitter(
      max,
      (body) => {
        let message: unknown;
        try {
          message = parseData(body.toString('utf8'));
        } catch (error) {
          return this.#splitter.fail(error as Error);
        }
        this.onFrame(message);
      },
      onError,
    );
  }

  get max(): number {
    return this.#splitter.max;
  }

  set max(value: number) {
    this.#splitter.max = value;
  }

  push(chunk: Buffer): void {
    this.#splitter.push(chunk);
  }
}

/** The kind byte of a binary frame: a request, or a reply holding a value, a thrown value, or a token for a new proxy. */
export const REQUEST = 0;
export const REPLY_VALUE = 0;
export const REPLY_ERROR = 1;
export const REPLY_PROXY = 2;

/** Largest binary frame after authentication (the v8 bytes of a value; a uint32 length caps it at 4 GiB anyway). */
export const DATA_FRAME_MAX = 2 ** 30;

/**
 * A binary frame after authentication: framing.ts's length prefix over a request id, a kind byte and the body (v8
 * bytes). The prefix is written here with the id and kind as one head, not by lengthPrefixed(), so a large body
 * goes out as it is, never copied into a joined buffer; dataFrameReader() splits it with framing.ts' FrameSplitter.
 */
export function dataFrame(id: number, kind: number, body: Buffer): [Buffer, Buffer] {
  if (body.length + 5 > DATA_FRAME_MAX) throw new RangeError(`a message of ${body.length} bytes is over the manager's ${DATA_FRAME_MAX}-byte limit`);
  const head = Buffer.allocUnsafe(9);
  head.writeUInt32BE(body.length + 5, 0);
  head.writeUInt32BE(id >>> 0, 4);
  head[8] = kind;
  return [head, body];
}

/** Writes a dataFrame(): small ones as one buffer (one packet with Nagle off), large ones head then body. */
export function writeDataFrame(socket: Socket, id: number, kind: number, body: Buffer): void {
  const [head, rest] = dataFrame(id, kind, body);
  if (rest.length < 64 * 1024) socket.write(Buffer.concat([head, rest]));
  else {
    socket.cork();
    socket.write(head);
    socket.write(rest);
    socket.uncork();
  }
}

/** Splits a byte stream into dataFrame()s: `onFrame(id, kind, body)`; a bad frame calls `onError` once. */
export function dataFrameReader(onFrame: (id: number, kind: number, body: Buffer) => void, onError: (error: Error) => void): FrameSplitter {
  const splitter: FrameSplitter = new FrameSplitter(
    DATA_FRAME_MAX,
    (frame) => {
      if (frame.length < 5) return splitter.fail(new Error('a frame too short to hold an id and a kind'));
      onFrame(frame.readUInt32BE(0), frame[4]!, frame.subarray(5));
    },
    onError,
  );
  return splitter;
}

function digest(key: Buffer, role: 'client' | 'server', nonce: string): Buffer {
  return createHmac('sha256', key).update(`forkscope-manager-${role}:`).update(nonce).digest();
}

function matches(expected: Buffer, given: unknown): boolean {
  if (typeof given !== 'string' || !/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}

/** Reads handshake frames from a socket, one at a time, under the pre-auth cap and deadline. */
function handshakeReader(socket: Socket, timeoutMs: number): { next(): Promise<Record<string, unknown>>; done(): Buffer } {
  const queue: unknown[] = [];
  let waiter: { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  const fail = (error: Error): void => {
    failure ??= error;
    waiter?.reject(failure);
    waiter = undefined;
  };
  const reader = new FrameReader(PRE_AUTH_MAX, (m) => (waiter ? (waiter.resolve(m as Record<string, unknown>), (waiter = undefined)) : queue.push(m)), fail);
  const onData = (chunk: Buffer): void => reader.push(chunk);
  const onClose = (error?: Error): void => fail(error instanceof Error ? error : new AuthenticationError('the connection closed during authentication'));
  const timer = setTimeout(() => fail(new AuthenticationError(`authentication took longer than ${timeoutMs} ms`)), timeoutMs);
  socket.on('data', onData);
  socket.on('close', onClose);
  socket.on('error', onClose);
  return {
    next() {
      if (failure) return Promise.reject(failure);
      if (queue.length > 0) return Promise.resolve(queue.shift() as Record<string, unknown>);
      return new Promise((resolve, reject) => (waiter = { resolve, reject }));
    },
    done() {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      return Buffer.alloc(0);
    },
  };
}

/** Server side: challenge the client, check its answer, then answer the client's challenge. */
export async function serverHandshake(socket: Socket, key: Buffer, timeoutMs = AUTH_TIMEOUT_MS): Promise<void> {
  const reader = handshakeReader(socket, timeoutMs);
  try {
    const nonce = randomBytes(32).toString('hex');
    socket.write(jsonFrame({ challenge: nonce }));
    const answer = await reader.next();
    const clientNonce = answer.challenge;
    if (!matches(digest(key, 'client', nonce), answer.response) || typeof clientNonce !== 'string' || !/^[0-9a-f]{64}$/.test(clientNonce)) {
      socket.write(jsonFrame({ failure: 'digest received was wrong' }));
      throw new AuthenticationError('digest received was wrong');
    }
    socket.write(jsonFrame({ welcome: true, response: digest(key, 'server', clientNonce).toString('hex') }));
  } finally {
    reader.done();
  }
}

/** Client side: answer the server's challenge, and check the server answers ours. */
export async function clientHandshake(socket: Socket, key: Buffer, timeoutMs = AUTH_TIMEOUT_MS): Promise<void> {
  const reader = handshakeReader(socket, timeoutMs);
  try {
    const hello = await reader.next();
    if (typeof hello.challenge !== 'string') throw new AuthenticationError('the manager sent no challenge');
    const nonce = randomBytes(32).toString('hex');
    socket.write(jsonFrame({ response: digest(key, 'client', hello.challenge).toString('hex'), challenge: nonce }));
    const verdict = await reader.next();
    if (verdict.welcome !== true) throw new AuthenticationError(typeof verdict.failure === 'string' ? verdict.failure : 'the manager refused the connection');
    if (!matches(digest(key, 'server', nonce), verdict.response)) throw new AuthenticationError('the manager failed to prove it knows the authkey');
  } finally {
    reader.done();
  }
}
