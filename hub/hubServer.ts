// The control channel's server: a private socket per session that authenticates each connection by
// its hello and hands well-formed events on. Never crashes on input. Node only; never imports vscode.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AUTH_TIMEOUT_MS, MAX_FRAME_BYTES, MAX_HELLO_BYTES, PROTOCOL_VERSION, type Hello, type ProcessKey, type RuntimeEvent } from '../runtime/src/protocol';
import { FrameSplitter, jsonFrame } from '../runtime/src/framing';
import { parseSafeJson } from '../runtime/src/safeJson';
import { eventsOf, isHello } from './validateFrame';

/** Connections allowed to be between accept and hello at once (a burst of starting workers stays far below). */
const MAX_UNAUTHENTICATED = 1024;

export interface HubServerHandlers {
  /** A connection authenticated; returns the key its events are attributed to. */
  onHello(hello: Hello, connection: number): ProcessKey;
  onEvents(key: ProcessKey, events: RuntimeEvent[], connection: number): void;
  /** An authenticated connection closed; `hello` is the one it began with. */
  onClose(key: ProcessKey, connection: number, hello: Hello): void;
  /** A connection was refused; `reason` says why, for logs and tests. */
  onReject?(reason: string): void;
}

export interface HubServerOptions {
  /** Largest frame after the hello. @default MAX_FRAME_BYTES */
  maxFrameBytes?: number;
  authTimeoutMs?: number;
}

/** Listens on a Unix socket in a fresh 0700 directory (a random named pipe on Windows). */
export class HubServer {
  readonly token = randomBytes(32).toString('hex');
  #tokenBytes = Buffer.from(this.token, 'utf8');
  #server: Server | undefined;
  #dir: string | undefined;
  #address = '';
  #sockets = new Set<Socket>();
  #handlers: HubServerHandlers;
  #maxFrame: number;
  #authTimeout: number;
  #nextConnection = 1;
  #rejected = 0;
  #unauthenticated = 0;

  constructor(handlers: HubServerHandlers, options: HubServerOptions = {}) {
    this.#handlers = handlers;
    this.#maxFrame = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.#authTimeout = options.authTimeoutMs ?? AUTH_TIMEOUT_MS;
  }

  get address(): string {
    return this.#address;
  }

  /** Connections closed for a bad token, a malformed or oversized frame, or silence. */
  get rejectedConnections(): number {
    return this.#rejected;
  }

  get connectionCount(): number {
    return this.#sockets.size;
  }

  async listen(): Promise<string> {
    if (process.platform === 'win32') {
      this.#address = `\\\\.\\pipe\\forkscope-${randomBytes(16).toString('hex')}`;
    } else {
      // mkdtemp creates the directory 0700; chmod again in case of an unusual umask handling.
      this.#dir = mkdtempSync(join(tmpdir(), 'forkscope-'));
      chmodSync(this.#dir, 0o700);
      this.#address = join(this.#dir, 'hub.sock');
    }
    // A hub whose process ends without close() (an uncaught error, process.exit) still removes its directory.
    process.once('exit', this.#removeDir);
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {});
    return this.#address;
  }

  /** Stops listening, closes every connection and removes the socket's directory. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#removeDir();
    process.off('exit', this.#removeDir);
  }

  #removeDir = (): void => {
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  };

  #accept(socket: Socket): void {
    const connection = this.#nextConnection++;
    if (this.#unauthenticated >= MAX_UNAUTHENTICATED) {
      // A flood of silent connections cannot hold the hub's memory or timers: refuse at the door.
      this.#rejected++;
      this.#handlers.onReject?.('too many connections waiting to say hello');
      socket.destroy();
      return;
    }
    this.#unauthenticated++;
    let counted = true;
    const authenticated = (): void => {
      if (counted) this.#unauthenticated--;
      counted = false;
    };
    this.#sockets.add(socket);
    let key: ProcessKey | undefined;
    let hello: Hello | undefined;
    let closed = false;
    const authTimer = setTimeout(() => reject('no hello in time'), this.#authTimeout);
    authTimer.unref();

    const reject = (reason: string): void => {
      if (closed) return;
      if (key === undefined) {
        this.#rejected++;
        this.#handlers.onReject?.(reason);
      } else {
        // An authenticated process that sends garbage loses its connection, and it is counted too.
        this.#rejected++;
        this.#handlers.onReject?.(`${reason} (from ${key})`);
      }
      socket.destroy();
    };

    const onFrame = (body: Buffer): boolean => {
      if (body.length === 0) {
        reject('frame of 0 bytes');
        return false;
      }
      const text = decodeUtf8(body);
      const value = text === undefined ? undefined : parseSafeJson(text);
      if (value === undefined) {
        reject(text === undefined ? 'invalid UTF-8' : 'invalid JSON');
        return false;
      }
      if (key === undefined) {
        if (!isHello(value)) {
          reject('first frame is not a hello');
          return false;
        }
        if (!this.#tokenMatches(value.token)) {
          reject('wrong token');
          return false;
        }
        if (value.v !== PROTOCOL_VERSION) {
          reject(`protocol version ${value.v}, expected ${PROTOCOL_VERSION}`);
          return false;
        }
        clearTimeout(authTimer);
        authenticated();
        hello = value;
        key = this.#handlers.onHello(value, connection);
        frames.max = this.#maxFrame;
        socket.write(frame({ t: 'welcome', v: PROTOCOL_VERSION }));
        return true;
      }
      const events = eventsOf(value);
      if (!events) {
        reject('not an event batch');
        return false;
      }
      if (events.length > 0) this.#handlers.onEvents(key, events, connection);
      return true;
    };

    // Frames up to the hello's size until the hello is accepted, then up to maxFrameBytes (set in onFrame).
    const frames = new FrameSplitter(
      MAX_HELLO_BYTES,
      (body) => {
        let more: boolean;
        try {
          more = onFrame(body);
        } catch (error) {
          // A handler's bug must not take the hub down with it; the connection goes, the hub stays.
          reject(`handler failed: ${error instanceof Error ? error.message : String(error)}`);
          more = false;
        }
        if (!more) frames.stop();
      },
      (error) => reject(error.message),
    );
    socket.on('data', (chunk: Buffer) => {
      if (!closed) frames.push(chunk);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      authenticated();
      clearTimeout(authTimer);
      this.#sockets.delete(socket);
      frames.stop();
      if (key !== undefined && hello !== undefined) {
        try {
          this.#handlers.onClose(key, connection, hello);
        } catch {
          // see above: the hub outlives a failing handler
        }
      }
    });
  }

  #tokenMatches(candidate: string): boolean {
    const bytes = Buffer.from(candidate, 'utf8');
    // Compare the same length either way, so a wrong length takes as long as a wrong byte.
    const same = bytes.length === this.#tokenBytes.length;
    return timingSafeEqual(same ? bytes : this.#tokenBytes, this.#tokenBytes) && same;
  }
}

/** A length-prefixed frame of UTF-8 JSON, as the control channel carries it (runtime/src/framing.ts). */
export const frame = jsonFrame;

const decoder = new TextDecoder('utf-8', { fatal: true });
function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
