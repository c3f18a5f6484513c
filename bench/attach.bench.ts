// Time from launch until N children (4, 16, 32) are all attached and paused at a breakpoint on their first user
// line, through Forkscope's attach path (announce on the control channel → wait until parked → CDP attach), beside
// a peer measured in the same run: the same children under Node's own `--inspect-brk`, found from their
// "Debugger listening" lines. Both run plain Node (the inspector module is prebuilt with esbuild). js-debug's
// `autoAttachChildProcesses` needs a VS Code host: attachWorkbench.bench.ts measures it in code-server.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { NodeLauncher } from '../src/debug/nodeLauncher';
import { waitUntilWaiting } from '../src/debug/inspectorRelease';
import type { AnnouncedProcess } from '../src/debug/programHost';

const require = createRequire(__filename);
interface Cdp {
  send(method: string, params?: object): Promise<any>;
  on(event: string, listener: (params: any) => void): void;
  close(): Promise<void>;
}
const CDP = require('chrome-remote-interface') as (options: { target: string; local?: boolean }) => Promise<Cdp>;

const repo = path.resolve(__dirname, '..');
const fixture = path.join(repo, 'test', 'fixtures', 'debug-fanout.cjs');
const firstLine = readFileSync(fixture, 'utf8')
  .split('\n')
  .findIndex((l) => l.includes('// FIRST_USER_LINE'));
const fixtureUrl = pathToFileURL(fixture).href;

/** Attaches like a debugger: breakpoint on the first user line, run, and resolve once paused there. */
async function attachAndPause(url: string, isChild: boolean, breakOnStart: boolean): Promise<Cdp> {
  const cdp = await CDP({ target: url, local: true });
  const paused = new Promise<void>((resolve) =>
    cdp.on('Debugger.paused', (e) => {
      if (e.callFrames[0]?.location.lineNumber === firstLine) resolve();
      else void cdp.send('Debugger.resume');
    }),
  );
  await cdp.send('Debugger.enable');
  await cdp.send('Debugger.setBreakpointByUrl', { lineNumber: firstLine, url: fixtureUrl });
  await cdp.send('Runtime.runIfWaitingForDebugger');
  if (breakOnStart) void cdp.send('Debugger.resume').catch(() => {});
  if (isChild) await paused;
  return cdp;
}

/** runtime/src/inspector.ts as one CommonJS file, so the fixture runs on plain Node like the peer. */
function inspectorBundle(dir: string): string {
  const outfile = path.join(dir, 'inspector.cjs');
  buildSync({ entryPoints: [path.join(repo, 'runtime', 'src', 'inspector.ts')], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'error' });
  return outfile;
}

/** One run's attaches: each process handed to attach() gets a debugger; `paused` resolves when the n-th child stopped. */
function attachAll(n: number, t0: number) {
  const sessions: Cdp[] = [];
  let failed = 0;
  let pausedChildren = 0;
  let allPaused!: (ms: number) => void;
  const paused = new Promise<number>((resolve) => (allPaused = resolve));
  return {
    /** Attaches once `ready` settles (Forkscope: the process is parked; the peer: at once). */
    attach(url: string, isChild: boolean, breakOnStart: boolean, ready: Promise<unknown> = Promise.resolve()): void {
      void ready
        .then(() => attachAndPause(url, isChild, breakOnStart))
        .then((cdp) => {
          sessions.push(cdp);
          if (isChild && ++pausedChildren === n) allPaused(performance.now() - t0);
        })
        .catch((error: unknown) => {
          failed++;
          if (process.env.BENCH_DEBUG) console.error('attach failed', error);
        });
    },
    /** Launch → all n children paused (ms) and the attaches that failed; rejects after the deadline. */
    async result(): Promise<{ ms: number; failed: number }> {
      const ms = await deadline(paused, n);
      return { ms, failed };
    },
    close: () => Promise.all(sessions.map((s) => s.close().catch(() => {}))),
  };
}

async function forkscope(n: number): Promise<{ ms: number; failed: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-bench-'));
  const address = path.join(dir, 'announce.sock');
  const listeners: Array<(p: AnnouncedProcess) => void> = [];
  const server = createServer((s) => {
    let text = '';
    s.on('data', (d) => (text += d));
    s.on('end', () => (s.end(), listeners.forEach((l) => l(JSON.parse(text)))));
  });
  const launcher = new NodeLauncher({
    createHub: () => ({
      start: () =>
        new Promise((resolve) =>
          server.listen(address, () => resolve({ env: { FORKSCOPE_TEST_ANNOUNCE: address, FORKSCOPE_DEBUG: '1', FANOUT_INSPECTOR: inspectorBundle(dir) } })),
        ),
      onProcess: (l) => (listeners.push(l), () => {}),
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    }),
  });
  const t0 = performance.now();
  const program = await launcher.launch({
    program: fixture,
    args: [String(n)],
    cwd: repo,
    env: {},
    runtimeExecutable: process.execPath,
    runtimeArgs: [],
    debug: true,
    singleProcess: false,
  });
  const run = attachAll(n, t0);
  program.onProcess((p) => {
    if (process.env.BENCH_DEBUG) console.error('announce', p.name, p.inspectorUrl);
    run.attach(p.inspectorUrl!, p.role !== 'main', false, waitUntilWaiting(p.inspectorUrl!));
  });
  try {
    return await run.result();
  } finally {
    await run.close();
    await program.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inspectBrk(n: number): Promise<{ ms: number; failed: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [fixture, String(n)], {
    cwd: repo,
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect-brk=127.0.0.1:0`, FORKSCOPE_DEBUG: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const run = attachAll(n, t0);
  let seen = 0;
  let buffered = '';
  child.stderr!.on('data', (d) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (process.env.BENCH_DEBUG) console.error('peer line', line);
      const url = /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
      if (url) run.attach(url, seen++ > 0, true);
    }
  });
  try {
    return await run.result();
  } finally {
    await run.close();
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  }
}

/** A run that has not finished in time fails (and its finally-block ends its processes) instead of hanging. */
function deadline<T>(promise: Promise<T>, n: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${n} children were not all paused within 120 s`)), 120_000);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

export default async function attachBench(): Promise<void> {
  console.log('children | forkscope attach path | node --inspect-brk peer | ratio (peer / forkscope) | failed attaches');
  for (const n of process.env.BENCH_N ? [Number(process.env.BENCH_N)] : [4, 16, 32]) {
    const ours = await forkscope(n);
    if (process.env.BENCH_DEBUG) console.error('forkscope', n, ours);
    const peer = await inspectBrk(n);
    console.log(
      `${String(n).padStart(8)} | ${ours.ms.toFixed(0).padStart(18)} ms | ${peer.ms.toFixed(0).padStart(20)} ms | ${(peer.ms / ours.ms).toFixed(2).padStart(24)}x | ${ours.failed} / ${peer.failed}`,
    );
  }
}

if (require.main === module) attachBench().catch((error: unknown) => (console.error(error), (process.exitCode = 1)));
