// Debugging a remote worker through a channel it opens outward: the worker never listens on a network address. The
// debugger's side (`forkscope debug-worker`) asks through Redis; a worker started with a debug key opens its
// inspector on 127.0.0.1 and relays its bytes through Redis lists, every frame sealed with AES-256-GCM under a
// key derived from the shared secret and the session (a wrong key, a replayed or reordered frame ends the session).
// The debugger's side offers the worker's inspector on a loopback port of its own machine. Both sides.
import { spawn } from 'node:child_process';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { AuthenticationError, ValueError } from '../errors';
import { resolveBackend, type BullmqOptions } from './connection';
import { dynamicImport } from '../loader/importModule';

/** The secret both sides hold (`--debug-key` or FORKSCOPE_DEBUG_KEY); at least this long. */
const MIN_KEY_CHARS = 16;
/** A request older than this is refused (a replay of an old one). */
const REQUEST_MAX_AGE_MS = 60_000;
/** Blocking reads wake this often to notice a closed session. */
const POLL_S = 1;
/** A session without a frame for this long ends. */
const IDLE_MS = 30 * 60_000;
/** Lists of a session expire if both sides vanish. */
const LIST_TTL_S = 120;

type Frame =
  | { op: 'attach'; at: number }
  | { op: 'ready'; url: string; pid: number }
  | { op: 'refused'; why: string }
  | { op: 'open'; c: number }
  | { op: 'data'; c: number; d: string }
  | { op: 'close'; c: number }
  | { op: 'end' };

export function checkDebugKey(key: string | undefined, who: string): string {
  if (!key || key.length < MIN_KEY_CHARS)
    throw new ValueError(
      `${who} needs a debug key of at least ${MIN_KEY_CHARS} characters (--debug-key or FORKSCOPE_DEBUG_KEY), the same on the worker and on the debugger's side`,
    );
  return key;
}

/** One direction of one session: its key, and the sequence number each frame must carry in order. */
export class Seal {
  #key: Buffer;
  #aad: string;
  #seq = 0;
  constructor(secret: string, session: string, direction: string) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, session, `forkscope-debug ${direction}`, 32));
    this.#aad = `${session}:${direction}:`;
  }

  seal(frame: Frame): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(Buffer.from(this.#aad + this.#seq++));
    const body = Buffer.concat([cipher.update(JSON.stringify(frame), 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The frame, or throws when it was not sealed with this key, for this session, direction and place in order. */
  open(text: string): Frame {
    const raw = Buffer.from(text, 'base64');
    if (raw.length < 29) throw new AuthenticationError('a debug frame too short to be sealed');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    decipher.setAAD(Buffer.from(this.#aad + this.#seq));
    let plain: string;
    try {
      plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new AuthenticationError('a debug frame failed authentication (another key, or replayed or reordered)');
    }
    this.#seq++;
    return JSON.parse(plain) as Frame;
  }
}

const keys = (prefix: string, session: string) => ({ up: `${prefix}:debug:${session}:up`, down: `${prefix}:debug:${session}:down` });
const requests = (prefix: string, worker: string) => `${prefix}:debug:${worker}`;

function newRedis(options: BullmqOptions): Redis {
  const IORedis = (require('ioredis') as { default: typeof import('ioredis').default }).default;
  const { redis } = resolveBackend(options);
  return new IORedis({ ...redis, maxRetriesPerRequest: null });
}

/** Moves bytes between sockets (by connection number) and a session's sealed Redis lists. */
class Pump {
  #sockets = new Map<number, Socket>();
  #push: Redis;
  #list: string;
  #out: Seal;
  constructor(push: Redis, list: string, out: Seal) {
    this.#push = push;
    this.#list = list;
    this.#out = out;
  }

  send(frame: Frame): void {
    // Sealed in call order, so sequence numbers leave in order; ioredis keeps one connection's commands in order.
    void this.#push
      .multi()
      .rpush(this.#list, this.#out.seal(frame))
      .expire(this.#list, LIST_TTL_S)
      .exec()
      .catch(() => {});
  }

  attach(c: number, socket: Socket): void {
    this.#sockets.set(c, socket);
    socket.on('data', (d: Buffer) => this.send({ op: 'data', c, d: d.toString('base64') }));
    socket.on('close', () => {
      if (this.#sockets.delete(c)) this.send({ op: 'close', c });
    });
    socket.on('error', () => socket.destroy());
  }

  data(c: number, d: string): void {
    this.#sockets.get(c)?.write(Buffer.from(d, 'base64'));
  }

  close(c: number): void {
    const s = this.#sockets.get(c);
    this.#sockets.delete(c);
    s?.end();
  }

  closeAll(): void {
    for (const s of this.#sockets.values()) s.destroy();
    this.#sockets.clear();
  }
}

/**
 * The worker's side: waits for debug requests sealed with `secret`; for each, opens this process's inspector on
 * 127.0.0.1 (never a network address) and relays it. Returns a function that stops it.
 */
export function serveDebugRequests(options: BullmqOptions & { worker: string; secret: string; log(line: string): void }): () => Promise<void> {
  const { prefix } = resolveBackend(options);
  const listen = newRedis(options);
  let stopped = false;
  const sessions = new Set<() => void>();
  const seen = new Set<string>();
  /** This relay opened the inspector (one the worker was started with stays as it is). */
  let openedHere = false;

  const session = async (id: string, request: string): Promise<void> => {
    const requestSeal = new Seal(options.secret, id, 'request');
    let frame: Frame;
    try {
      frame = requestSeal.open(request);
    } catch {
      options.log(`forkscope worker ${options.worker}: refused a debug request: it was not sealed with this worker's debug key`);
      return;
    }
    if (frame.op !== 'attach' || Math.abs(Date.now() - frame.at) > REQUEST_MAX_AGE_MS || seen.has(id)) {
      options.log(`forkscope worker ${options.worker}: refused a stale or repeated debug request`);
      return;
    }
    seen.add(id);
    const inspector = (await dynamicImport('node:inspector')) as typeof import('node:inspector');
    if (!inspector.url()) {
      inspector.open(0, '127.0.0.1', false);
      openedHere = true;
    }
    const url = inspector.url()!;
    // The relay runs in a process of its own: a breakpoint pauses this event loop, and with it anything here that
    // would carry the debugger's "resume" from Redis to the inspector. A thread would do, but the debugger attached
    // here would list it beside the worker and could pause it too. Without NODE_OPTIONS: no debugger's bootloader.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const relay = spawn(process.execPath, [relayProcessFile()], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    relay.send({ connection: options.connection, prefix: options.prefix, id, secret: options.secret, url, pid: process.pid } satisfies RelayData);
    options.log(`forkscope worker ${options.worker}: debugger attached through Redis (session ${id.slice(0, 8)}), inspector on 127.0.0.1 only`);
    const end = () => void relay.kill('SIGTERM');
    sessions.add(end);
    const why = await new Promise<string | undefined>((resolve) => {
      relay.on('message', (m: { ended?: string }) => resolve(m.ended || undefined));
      relay.on('error', (error) => resolve(error.message));
      relay.on('exit', (code, signal) => resolve(code || (signal && signal !== 'SIGTERM') ? `the relay exited (${code ?? signal})` : undefined));
    });
    if (why) options.log(`forkscope worker ${options.worker}: debug session ${id.slice(0, 8)} ended: ${why}`);
    sessions.delete(end);
    relay.kill('SIGTERM');
    // The last debugger gone, the inspector closes again: a worker keeps no inspector open for nobody.
    if (sessions.size === 0 && openedHere) {
      openedHere = false;
      inspector.close();
    }
    options.log(`forkscope worker ${options.worker}: debugger detached (session ${id.slice(0, 8)})`);
  };

  const loop = async () => {
    while (!stopped) {
      const got = await listen.blpop(requests(prefix, options.worker), POLL_S).catch(() => null);
      if (!got || stopped) continue;
      let request: { s?: unknown; r?: unknown };
      try {
        request = JSON.parse(got[1]) as { s?: unknown; r?: unknown };
      } catch {
        continue;
      }
      if (typeof request.s !== 'string' || !/^[0-9a-f]{32}$/.test(request.s) || typeof request.r !== 'string') continue;
      void session(request.s, request.r);
    }
  };
  void loop();
  return async () => {
    stopped = true;
    for (const end of [...sessions]) end();
    listen.disconnect();
  };
}

/** What the worker's relay process gets: one session's Redis, key and inspector. */
export interface RelayData {
  connection: BullmqOptions['connection'];
  prefix: BullmqOptions['prefix'];
  id: string;
  secret: string;
  url: string;
  pid: number;
}

/** runtime/dist/debugRelayProcess.cjs, beside the bundle (or the built one, from the sources). */
function relayProcessFile(): string {
  const candidates = [join(__dirname, 'debugRelayProcess.cjs'), join(__dirname, '..', '..', 'dist', 'debugRelayProcess.cjs')];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`the debug relay's program is missing (${candidates[0]}): reinstall forkscope, or run \`npm run build\` in its repository`);
  return file;
}

/**
 * The worker's side of one session, in the relay process: says ready, then moves bytes between the session's sealed
 * Redis lists and connections to the inspector on 127.0.0.1 until the debugger's side ends it or `stop` aborts (the
 * worker stops). Resolves with why it ended early ('' when the debugger said end, went idle or the worker stopped).
 */
export async function relaySession(data: RelayData, stop?: AbortSignal): Promise<string> {
  const options = { connection: data.connection, prefix: data.prefix };
  const { prefix } = resolveBackend(options);
  const push = newRedis(options);
  const read = newRedis(options);
  const inbound = new Seal(data.secret, data.id, 'up');
  const outbound = new Seal(data.secret, data.id, 'down');
  const { up, down } = keys(prefix, data.id);
  const pump = new Pump(push, down, outbound);
  const port = Number(new URL(data.url).port);
  pump.send({ op: 'ready', url: data.url, pid: data.pid });
  let last = Date.now();
  try {
    while (!stop?.aborted && Date.now() - last < IDLE_MS) {
      const got = await read.blpop(up, POLL_S).catch(() => null);
      if (!got) continue;
      last = Date.now();
      const f = inbound.open(got[1]);
      if (f.op === 'open') pump.attach(f.c, netConnect(port, '127.0.0.1'));
      else if (f.op === 'data') pump.data(f.c, f.d);
      else if (f.op === 'close') pump.close(f.c);
      else if (f.op === 'end') break;
    }
    return '';
  } catch (error) {
    return (error as Error).message;
  } finally {
    // The worker stopping (or going idle) says so: the debugger's side closes its port and the editor's session ends.
    pump.send({ op: 'end' });
    pump.closeAll();
    read.disconnect();
    // The last frames (closes) leave before the connection does.
    await push.quit().catch(() => push.disconnect());
  }
}

export interface DebugRelay {
  /** The worker's inspector, offered on this machine's loopback: `ws://127.0.0.1:PORT/UUID`. */
  url: string;
  /** The worker's pid and its own inspector URL (on its loopback). */
  pid: number;
  remoteUrl: string;
  /** Resolves when the worker's side ended the session (it stopped, or a frame failed authentication). */
  ended: Promise<void>;
  close(): Promise<void>;
}

/** The debugger's side: asks worker `worker` for a debug session and offers its inspector on 127.0.0.1:`port` (0: any). */
export async function openDebugRelay(options: BullmqOptions & { worker: string; secret: string; port?: number; timeoutMs?: number }): Promise<DebugRelay> {
  const config = resolveBackend(options);
  const id = randomBytes(16).toString('hex');
  const { up, down } = keys(config.prefix, id);
  const push = newRedis(options);
  const read = newRedis(options);
  const cleanup = () => {
    push.disconnect();
    read.disconnect();
  };
  let server: Server | undefined;
  try {
    const roll = await push.hget(`${config.prefix}:workers`, options.worker);
    if (!roll)
      throw new ValueError(
        `no worker named ${options.worker} in the roll of ${config.prefix} on redis ${config.address}; see the names with \`forkscope worker\`'s announcements or the view`,
      );
    const request = new Seal(options.secret, id, 'request').seal({ op: 'attach', at: Date.now() });
    await push
      .multi()
      .rpush(requests(config.prefix, options.worker), JSON.stringify({ s: id, r: request }))
      .expire(requests(config.prefix, options.worker), LIST_TTL_S)
      .exec();
    const inbound = new Seal(options.secret, id, 'down');
    const outbound = new Seal(options.secret, id, 'up');
    const timeoutMs = options.timeoutMs ?? 15_000;
    const got = await read.blpop(down, Math.ceil(timeoutMs / 1000));
    if (!got) {
      await push.del(requests(config.prefix, options.worker));
      throw new Error(
        `worker ${options.worker} did not answer the debug request in ${Math.round(timeoutMs / 1000)} s: start it with --debug-key (or FORKSCOPE_DEBUG_KEY) set to the same key as here`,
      );
    }
    const ready = inbound.open(got[1]);
    if (ready.op !== 'ready') throw new Error(`worker ${options.worker} refused to be debugged${ready.op === 'refused' ? `: ${ready.why}` : ''}`);
    const pump = new Pump(push, up, outbound);
    let next = 1;
    server = createServer((socket) => {
      const c = next++;
      pump.send({ op: 'open', c });
      pump.attach(c, socket);
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    let open = true;
    let ended!: () => void;
    const endedByWorker = new Promise<void>((resolve) => (ended = resolve));
    const loop = async () => {
      try {
        while (open) {
          const frame = await read.blpop(down, POLL_S).catch(() => null);
          if (!frame) continue;
          const f = inbound.open(frame[1]);
          if (f.op === 'data') pump.data(f.c, f.d);
          else if (f.op === 'close') pump.close(f.c);
          else if (f.op === 'end') break;
        }
      } catch {
        // A frame that failed authentication ends the session.
      }
      const byWorker = open;
      open = false;
      pump.closeAll();
      server?.close();
      if (byWorker) ended();
    };
    void loop();
    const remote = new URL(ready.url);
    return {
      url: `ws://127.0.0.1:${port}${remote.pathname}`,
      pid: ready.pid,
      remoteUrl: ready.url,
      ended: endedByWorker,
      async close() {
        if (!open) return cleanup();
        open = false;
        pump.send({ op: 'end' });
        pump.closeAll();
        await new Promise<void>((r) => server!.close(() => r()));
        await new Promise((r) => setTimeout(r, 50));
        cleanup();
      },
    };
  } catch (error) {
    server?.close();
    cleanup();
    throw error;
  }
}
