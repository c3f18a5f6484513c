// A minimal Chrome DevTools Protocol client over a process's inspector WebSocket: the HTTP upgrade, RFC 6455
// framing, calls with their answers and one-shot notifications. Node's modules only, loopback only. Every adapter
// piece that talks to an inspector (release, stopOnEntry, the on-demand watch, the proxy) goes through here.
import * as http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';

export class CdpConnection {
  readonly #socket: Socket;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #once = new Map<string, Array<(params: unknown) => void>>();
  #nextId = 1;
  #buffer = Buffer.alloc(0);
  readonly #timeoutMs: number;

  private constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('close', () => this.#failAll(new Error('the inspector closed the connection')));
    socket.on('error', (error) => this.#failAll(error));
  }

  static async open(url: string, timeoutMs: number): Promise<CdpConnection> {
    const target = new URL(url);
    if (target.protocol !== 'ws:' || !isLoopback(target.hostname)) throw new Error(`refusing a non-loopback inspector: ${url}`);
    return new CdpConnection(await upgrade(target, timeoutMs), timeoutMs);
  }

  /**
   * `onAnswer` runs as the answer is read, before any notification read after it: the only way to know whether the
   * inspector handled this call before an event that another session caused (a promise settles a tick later).
   */
  call(method: string, params: object = {}, onAnswer?: (result: unknown) => void): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), onAnswer?.(v), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.#socket.write(maskedTextFrame(JSON.stringify({ id, method, params })));
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  /**
   * Closes once the inspector has nothing more to send this connection: the Debugger domain and the disconnect notice
   * off, and their answers read (every event queued before them has then arrived). Node's inspector writes a message
   * queued for a connection that already closed through a freed socket and dies of SIGSEGV (fixed upstream in
   * https://github.com/nodejs/node/pull/64209, not in Node 20): a session that left with its Debugger domain on, as
   * the program went on loading scripts, killed the program it had just resumed.
   */
  async leave(): Promise<void> {
    if (this.#socket.destroyed) return;
    await Promise.all([this.call('Debugger.disable'), this.call('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: false })]).catch(() => {});
    this.close();
  }

  /** The next notification named `method`. */
  once(method: string, listener: (params: unknown) => void): void {
    const listeners = this.#once.get(method) ?? [];
    listeners.push(listener);
    this.#once.set(method, listeners);
  }

  #failAll(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }

  // Server frames are unmasked (RFC 6455 §5.1); the inspector sends only whole text frames.
  #read(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      if (this.#buffer.length < 2) return;
      const opcode = this.#buffer[0]! & 0x0f;
      let length = this.#buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.#buffer.length < 4) return;
        length = this.#buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.#buffer.length < 10) return;
        length = Number(this.#buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.#buffer.length < offset + length) return;
      const payload = this.#buffer.subarray(offset, offset + length);
      this.#buffer = this.#buffer.subarray(offset + length);
      if (opcode === 0x8) return this.close();
      if (opcode !== 0x1) continue;
      let message: { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message?: string } };
      try {
        message = JSON.parse(payload.toString('utf8'));
      } catch {
        continue;
      }
      if (message.id === undefined && message.method) {
        const listeners = this.#once.get(message.method);
        this.#once.delete(message.method);
        for (const l of listeners ?? []) l(message.params);
        continue;
      }
      const pending = message.id === undefined ? undefined : this.#pending.get(message.id);
      if (!pending) continue;
      this.#pending.delete(message.id!);
      if (message.error) pending.reject(new Error(message.error.message ?? 'CDP error'));
      else pending.resolve(message.result);
    }
  }
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
}

export function upgrade(target: URL, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      timeout: timeoutMs,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      },
    });
    request.once('upgrade', (_res, socket) => resolve(socket as Socket));
    request.once('response', (res) => reject(new Error(`inspector refused the upgrade: HTTP ${res.statusCode}`)));
    request.once('timeout', () => request.destroy(new Error(`inspector at ${target.href} did not answer within ${timeoutMs} ms`)));
    request.once('error', reject);
    request.end();
  });
}

/** A client-to-server WebSocket text frame (RFC 6455: FIN, opcode 1, masked). */
export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const length = payload.length;
  const header = frameHeader(length);
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, body]);
}

/** FIN + text opcode, the mask bit, and the payload length in the smallest of RFC 6455's three forms (7, 16, 64 bits). */
function frameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, 0x80 | length]);
  if (length <= 0xffff) {
    const header = Buffer.from([0x81, 0x80 | 126, 0, 0]);
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.alloc(10);
  header[0] = 0x81;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}
