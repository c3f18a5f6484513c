// The observer channel: how a `forkscope` attach session joins a hub that `forkscope run --inspect` started in a
// terminal. The CLI serves each process announcement (with its inspector URL) and the program's exit as JSON
// lines on a private socket, to whoever first sends the hub's token. Node's modules only; never imports vscode.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AnnouncedProcess } from './hub';

/** One line from the CLI to an observer. */
export type ObserverMessage = { t: 'welcome' } | { t: 'process'; process: AnnouncedProcess } | { t: 'exit'; code: number | null; signal: string | null };

/** An observer must send its token line within this many ms, and it may be at most this long. */
const HELLO_MS = 5_000;
const HELLO_MAX = 1_024;

/** The CLI's side: a 0700 directory's Unix socket (a random named pipe on Windows), token-gated, many observers. */
export class ObserverServer {
  readonly #token: Buffer;
  readonly #dir: string | undefined;
  readonly address: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #history: string[] = [];

  constructor(token: string) {
    this.#token = Buffer.from(token, 'utf8');
    if (process.platform === 'win32') {
      this.address = `\\\\.\\pipe\\forkscope-observer-${randomBytes(16).toString('hex')}`;
    } else {
      // mkdtemp makes the directory 0700: only this user can reach the socket at all.
      this.#dir = mkdtempSync(join(tmpdir(), 'forkscope-observe-'));
      this.address = join(this.#dir, 'observer.sock');
      // Also when close() never runs (the CLI killed by a signal it forwards, or an early exit).
      const dir = this.#dir;
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    }
    this.#server = createServer((socket) => this.#accept(socket));
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.address, () => resolve(this.address));
    });
  }

  /** Sent to every observer now and replayed to each that joins later. */
  publish(message: ObserverMessage): void {
    const line = `${JSON.stringify(message)}\n`;
    this.#history.push(line);
    for (const s of this.#sockets) s.write(line);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.end();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }

  #accept(socket: Socket): void {
    let buffered = '';
    const timer = setTimeout(() => socket.destroy(), HELLO_MS);
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('close', () => (clearTimeout(timer), this.#sockets.delete(socket)));
    const onData = (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) {
        if (buffered.length > HELLO_MAX) socket.destroy();
        return;
      }
      socket.off('data', onData);
      clearTimeout(timer);
      if (!this.#tokenMatches(buffered.slice(0, end))) return void socket.destroy();
      this.#sockets.add(socket);
      socket.write(`${JSON.stringify({ t: 'welcome' })}\n`);
      for (const line of this.#history) socket.write(line);
      // Nothing more is read from an observer; keep the stream flowing so its end is seen.
      socket.resume();
    };
    socket.on('data', onData);
  }

  #tokenMatches(line: string): boolean {
    let candidate: unknown;
    try {
      candidate = (JSON.parse(line) as { token?: unknown }).token;
    } catch {
      return false;
    }
    if (typeof candidate !== 'string') return false;
    const bytes = Buffer.from(candidate, 'utf8');
    const same = bytes.length === this.#token.length;
    return timingSafeEqual(same ? bytes : this.#token, this.#token) && same;
  }
}

/** A joined observer: announcements and the program's end, as they come. */
export interface ObserverConnection {
  onProcess(listener: (p: AnnouncedProcess) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /** The CLI closed the channel (its program ended, or it was stopped). */
  onClose(listener: () => void): void;
  close(): void;
}

/** The adapter's side: connects, sends the token, resolves once the CLI welcomed it (rejects on a wrong token). */
export function connectObserver(address: string, token: string): Promise<ObserverConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(address);
    const processListeners: Array<(p: AnnouncedProcess) => void> = [];
    const exitListeners: Array<(code: number | null, signal: string | null) => void> = [];
    const closeListeners: Array<() => void> = [];
    const seen: AnnouncedProcess[] = [];
    let buffered = '';
    let welcomed = false;
    // What arrives with the welcome is replayed to listeners added once the promise has resolved.
    let exited: [number | null, string | null] | undefined;
    const connection: ObserverConnection = {
      onProcess: (l) => {
        processListeners.push(l);
        for (const p of seen) l(p);
      },
      onExit: (l) => {
        exitListeners.push(l);
        if (exited) l(...exited);
      },
      onClose: (l) => void closeListeners.push(l),
      close: () => socket.destroy(),
    };
    socket.setEncoding('utf8');
    socket.on('error', (error) => reject(error));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        let message: ObserverMessage;
        try {
          message = JSON.parse(line) as ObserverMessage;
        } catch {
          continue;
        }
        if (message.t === 'welcome') {
          welcomed = true;
          resolve(connection);
        } else if (message.t === 'process') {
          seen.push(message.process);
          for (const l of processListeners) l(message.process);
        } else if (message.t === 'exit') {
          exited = [message.code, message.signal];
          for (const l of exitListeners) l(message.code, message.signal);
        }
      }
    });
    socket.on('close', () => {
      if (!welcomed) return reject(new Error('the hub closed the connection (a wrong token, or the program already ended)'));
      for (const l of closeListeners) l();
    });
    socket.once('connect', () => socket.write(`${JSON.stringify({ token })}\n`));
  });
}
