// The manager's wire: length-prefixed JSON frames with hard size caps, data-only parsing (no key can
// reach a prototype, nothing can name code), and the HMAC challenge-response both ways that opens
// every connection (the key never crosses; each side proves itself on the other's fresh nonce).
// Node's modules only; shared by the manager server and its clients.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { AuthenticationError } from '../errors';

/** Largest frame before authentication: a handshake message is well under this. */
export const PRE_AUTH_MAX = 512;
/** Largest frame after authentication. */
export const FRAME_MAX = 64 * 1024 * 1024;
/** How long a peer may take to finish the handshake, in ms. */
export const AUTH_TIMEOUT_MS = 3000;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** JSON.parse that refuses keys able to reach a prototype. */
export function parseData(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => {
    if (FORBIDDEN_KEYS.has(key)) throw new SyntaxError(`forbidden key ${JSON.stringify(key)}`);
    return value;
  });
}

export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message) ?? 'null', 'utf8');
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into parsed frames; any oversized or malformed frame calls `onError` once. */
export class FrameReader {
  #pending: Buffer = Buffer.alloc(0);
  #failed = false;
  max: number;

  constructor(
    max: number,
    readonly onFrame: (message: unknown) => void,
    readonly onError: (error: Error) => void,
  ) {
    this.max = max;
  }

  push(chunk: Buffer): void {
    if (this.#failed) return;
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (this.#pending.length >= 4) {
      const length = this.#pending.readUInt32BE(0);
      if (length > this.max) return this.#fail(new Error(`frame of ${length} bytes is over the ${this.max}-byte limit`));
      if (this.#pending.length < 4 + length) return;
      const body = this.#pending.subarray(4, 4 + length);
      this.#pending = this.#pending.subarray(4 + length);
      let message: unknown;
      try {
        message = parseData(body.toString('utf8'));
      } catch (error) {
        return this.#fail(error as Error);
      }
      this.onFrame(message);
      if (this.#failed) return;
    }
  }

  #fail(error: Error): void {
    this.#failed = true;
    this.#pending = Buffer.alloc(0);
    this.onError(error);
  }
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
    socket.write(encodeFrame({ challenge: nonce }));
    const answer = await reader.next();
    const clientNonce = answer.challenge;
    if (!matches(digest(key, 'client', nonce), answer.response) || typeof clientNonce !== 'string' || !/^[0-9a-f]{64}$/.test(clientNonce)) {
      socket.write(encodeFrame({ failure: 'digest received was wrong' }));
      throw new AuthenticationError('digest received was wrong');
    }
    socket.write(encodeFrame({ welcome: true, response: digest(key, 'server', clientNonce).toString('hex') }));
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
    socket.write(encodeFrame({ response: digest(key, 'client', hello.challenge).toString('hex'), challenge: nonce }));
    const verdict = await reader.next();
    if (verdict.welcome !== true) throw new AuthenticationError(typeof verdict.failure === 'string' ? verdict.failure : 'the manager refused the connection');
    if (!matches(digest(key, 'server', nonce), verdict.response)) throw new AuthenticationError('the manager failed to prove it knows the authkey');
  } finally {
    reader.done();
  }
}
