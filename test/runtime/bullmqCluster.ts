// A real cluster for the bullmq tests and bench: redis-server on loopback at a free port in a temp dir, and
// `forkscope worker` processes (the built CLI), each leading its own process group as if it were a host.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'runtime', 'bin', 'forkscope.js');
const REDIS_SERVER = process.env.FORKSCOPE_REDIS_SERVER ?? 'redis-server';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp, ms: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => finish(new Error(`${what} did not print ${pattern} within ${ms} ms:\n${seen}`)), ms);
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = pattern.exec(seen);
      if (m) finish(undefined, m[0]);
    };
    const onExit = (code: number | null, signal: string | null) => finish(new Error(`${what} exited (${code ?? signal}) before printing ${pattern}:\n${seen}`));
    function finish(error?: Error, line?: string) {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(line!);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
  });
}

export interface Redis {
  port: number;
  url: string;
  dir: string;
  /** Stops it (SIGTERM: an append-only file is flushed) and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and dir. */
  start(): Promise<void>;
  /** Stops it for good and removes its dir. */
  dispose(): Promise<void>;
}

/** redis-server on 127.0.0.1 at a free port; `persist` keeps data across stop()/start() (append-only, fsync always). */
export async function startRedis(options: { password?: string; persist?: boolean } = {}): Promise<Redis> {
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--protected-mode', 'yes'];
  if (options.persist) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  else args.push('--appendonly', 'no');
  if (options.password) args.push('--requirepass', options.password);
  const redis: Redis = {
    port,
    dir,
    url: `redis://${options.password ? `:${encodeURIComponent(options.password)}@` : ''}127.0.0.1:${port}`,
    async start() {
      child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const missing = new Promise<never>((_, reject) =>
        child!.once('error', (error) =>
          reject(new Error(`cannot start ${REDIS_SERVER} (${error.message}): install it with \`node scripts/e2e-env.mjs\` (or apt-get install redis-server)`)),
        ),
      );
      await Promise.race([waitForLine(child, /Ready to accept connections/, 20_000, 'redis-server'), missing]);
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    async dispose() {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await redis.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return redis;
}

export interface Worker {
  name: string;
  child: ChildProcess;
  output(): string;
  /** Signals the worker's whole process group (it stands for a host). */
  signal(signal: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `forkscope worker` (this checkout's CLI, or `cli`) as a process group of its own, FORKSCOPE_HOST=name; resolves once it announced itself. */
export async function startWorker(
  url: string,
  name: string,
  extra: string[] = [],
  options: { env?: NodeJS.ProcessEnv; announce?: boolean; cli?: string } = {},
): Promise<Worker> {
  const child = spawn(process.execPath, [options.cli ?? CLI, 'worker', '--backend', url, '--name', name, ...extra], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, FORKSCOPE_HOST: name, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const worker: Worker = {
    name,
    child,
    output: () => out,
    signal(signal) {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // Already gone.
      }
    },
    exited,
  };
  if (options.announce ?? true) await waitForLine(child, new RegExp(`forkscope worker ${name}: host .*\\n`), 60_000, `worker ${name}`);
  return worker;
}
