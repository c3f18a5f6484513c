// Talks to a waiting child's inspector without attaching a debugger: waits until the child is really parked in
// waitForDebugger() (so an attach cannot race its hello), and releases it with Runtime.runIfWaitingForDebugger.
// A minimal CDP client over the inspector's WebSocket; Node's modules only, loopback only.
import * as http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { DISMISS_WATCHDOG, WAITING_FLAG } from '../../runtime/src/inspector';

/** Sends `Runtime.runIfWaitingForDebugger` once the process at `url` waits, then disconnects. */
export async function releaseInspector(url: string, timeoutMs = 5_000): Promise<void> {
  const cdp = await CdpConnection.open(url, timeoutMs);
  try {
    await waitUntilParked(cdp, timeoutMs);
    await cdp.call('Runtime.runIfWaitingForDebugger');
  } finally {
    cdp.close();
  }
}

/**
 * Resolves once the process at `url` is parked in waitForDebugger(). A debugger's single
 * runIfWaitingForDebugger sent before then would be lost and the child left waiting. Ends the process's watchdog:
 * the caller now owns its release (a debugger's, or releaseIfStillParked when that debugger never ran it).
 */
export async function waitUntilWaiting(url: string, timeoutMs = 5_000): Promise<void> {
  const cdp = await CdpConnection.open(url, timeoutMs);
  try {
    await waitUntilParked(cdp, timeoutMs);
  } finally {
    cdp.close();
  }
}

/**
 * The caller's promise after waitUntilWaiting: a process whose debugger never ran it (the session was stopped while
 * it attached) is released. True when it was still parked; false when it runs or is gone.
 */
export async function releaseIfStillParked(url: string, timeoutMs = 5_000): Promise<boolean> {
  let cdp: CdpConnection;
  try {
    cdp = await CdpConnection.open(url, timeoutMs);
  } catch {
    return false;
  }
  try {
    const expression = `globalThis[Symbol.for(${JSON.stringify(WAITING_FLAG)})] === true`;
    const reply = (await cdp.call('Runtime.evaluate', { expression, returnByValue: true })) as { result?: { value?: unknown } };
    if (reply.result?.value !== true) return false;
    await cdp.call('Runtime.runIfWaitingForDebugger');
    return true;
  } finally {
    cdp.close();
  }
}

/** A resume this soon after the entry pause came from a debugger, not a person. */
const AUTO_RESUME_MS = 250;

/**
 * `stopOnEntry`: a session of our own on the main process's inspector, opened before js-debug attaches, that pauses
 * the program on the first line of `program` once. V8 tells every debugger session of the isolate about a pause, so
 * js-debug shows the main process stopped there; ours removes its breakpoint, and leaves once the program resumes.
 */
export async function armEntryBreakpoint(url: string, program: string, timeoutMs = 5_000): Promise<void> {
  const cdp = await CdpConnection.open(url, timeoutMs);
  try {
    await cdp.call('Debugger.enable');
    // Node keeps a finished program alive while a session is connected: ours must leave even if it never paused.
    await cdp.call('Runtime.enable');
    cdp.once('Runtime.executionContextDestroyed', () => cdp.close());
    // CommonJS scripts are named by path or file URL, ES modules by file URL (a loader may add a query).
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const urlRegex = `^(${escape(pathToFileURL(program).href)}|${escape(program)})(\\?.*)?$`;
    const { breakpointId } = (await cdp.call('Debugger.setBreakpointByUrl', { urlRegex, lineNumber: 0, columnNumber: 0 })) as { breakpointId: string };
    // Other pauses come first under js-debug (its instrumentation breakpoint before each script with a source
    // map): they are not ours, and removing our breakpoint on them let the program run past its first line.
    const onPaused = (params: unknown) => {
      const hit = (params as { hitBreakpoints?: string[] } | undefined)?.hitBreakpoints ?? [];
      if (!hit.includes(breakpointId)) return cdp.once('Debugger.paused', onPaused);
      void cdp.call('Debugger.removeBreakpoint', { breakpointId }).catch(() => {});
      const pausedAt = Date.now();
      cdp.once('Debugger.resumed', () => {
        // js-debug sets a module-entry breakpoint of its own on a file with breakpoints, at this very spot, and
        // resumes a pause that hit only breakpoints it does not count as the user's. No person continues this
        // fast: pause again on the next statement, which js-debug always shows.
        if (Date.now() - pausedAt > AUTO_RESUME_MS) return void cdp.close();
        cdp.once('Debugger.paused', () => cdp.once('Debugger.resumed', () => void cdp.close()));
        void cdp.call('Debugger.pause').catch(() => cdp.close());
      });
    };
    cdp.once('Debugger.paused', onPaused);
  } catch (error) {
    cdp.close();
    throw error;
  }
}

async function waitUntilParked(cdp: CdpConnection, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Parked: from here the adapter attaches or releases the process, so its watchdog thread goes (see DISMISS_WATCHDOG).
  const expression = `(() => {
    if (globalThis[Symbol.for(${JSON.stringify(WAITING_FLAG)})] !== true) return false;
    globalThis[Symbol.for(${JSON.stringify(DISMISS_WATCHDOG)})]?.();
    return true;
  })()`;
  for (;;) {
    const reply = (await cdp.call('Runtime.evaluate', { expression, returnByValue: true })) as { result?: { value?: unknown } };
    if (reply.result?.value === true) return;
    if (Date.now() > deadline) throw new Error(`the process did not start waiting for its debugger within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

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

  call(method: string, params: object = {}): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.#socket.write(maskedTextFrame(JSON.stringify({ id, method, params })));
    });
  }

  close(): void {
    this.#socket.destroy();
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

function upgrade(target: URL, timeoutMs: number): Promise<Socket> {
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
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x81, 0x80 | length])
      : Buffer.from([0x81, 0x80 | 126, (length >> 8) & 0xff, length & 0xff]);
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, body]);
}
