// Opens a loopback inspector in a child and waits for the debugger, when the session asks for debugging.
// Runs inside the user's processes: Node's own modules only, never the extension.
//
// CONTRACT between the child bootstrap (issue 3) and the debugger work (issue 6), which owns this file:
// the child bootstrap calls openInspectorIfDebugging() before saying hello, puts the URL in the hello,
// then calls waitForDebuggerIfOpened() before running any user code.
import * as inspector from 'node:inspector';
import { isMainThread, Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { DEBUG_HANDSHAKE, ENV } from './protocol';
import * as telemetry from './telemetry';
import { INTERNAL_THREAD_MARK } from './internalThreads';
import { startDebugSentinel } from './debugSentinel';

const { waitingFlag: WAITING_FLAG, dismissWatchdog: DISMISS_WATCHDOG, defaultWaitMs: DEFAULT_DEBUG_WAIT_MS } = DEBUG_HANDSHAKE;

let openedUrl: string | undefined;

/** Opens an inspector on 127.0.0.1 with a random port when FORKSCOPE_DEBUG=1; returns its ws:// URL. */
export function openInspectorIfDebugging(): string | undefined {
  if (process.env[ENV.debug] !== '1') return undefined;
  // A worker thread is debugged through its process's inspector (js-debug's NodeWorker auto-attach
  // pauses it at start), never on a port of its own.
  if (!isMainThread) return undefined;
  if (openedUrl) return openedUrl;
  // Someone else (node --inspect, an auto-attach) already owns the inspector: announce it, never wait on it.
  const existing = inspector.url();
  if (existing) return existing;
  try {
    // Loopback and port 0 (a random free port): never 0.0.0.0, never a guessable 9229+n.
    inspector.open(0, '127.0.0.1', false);
  } catch (error) {
    process.stderr.write(`forkscope: could not open an inspector in pid ${process.pid}: ${String(error)}\n`);
    return undefined;
  }
  openedUrl = inspector.url();
  return openedUrl;
}

/**
 * Blocks until a debugger attaches (or the session releases this process), if an inspector was opened.
 * `endsWithParent`: this process does not outlive its parent anyway (a runtime child, the program's main process),
 * so a parked one is ended when its parent dies; a process the program spawned by other means may well outlive it.
 */
export function waitForDebuggerIfOpened(options: { endsWithParent?: boolean } = {}): void {
  // A worker thread has no inspector of its own to wait on, but it records its pauses like a process.
  if (!isMainThread && process.env[ENV.debug] === '1') startDebugSentinel();
  if (!openedUrl) return;
  const limit = debugWaitMs();
  if (limit !== 0) park(limit, options.endsWithParent ?? false);
  // After the wait, so turning its Debugger domain on (V8 reports every loaded script to a new session) stays off
  // the attach path; before any user code, so a first-line breakpoint's pause is recorded too.
  startDebugSentinel();
}

function park(limit: number, endsWithParent: boolean): void {
  // A blocked thread sends nothing: what this process has said so far (its hello, or the identity event that
  // carries the inspector URL when the preload spoke first) must leave now, or no debugger ever learns of it.
  void telemetry.flush();
  const watchdog = startWatchdog(limit);
  const flags = globalThis as Record<symbol, unknown>;
  flags[Symbol.for(WAITING_FLAG)] = true;
  let guard: ChildProcess | undefined;
  // Windows keeps its watchdog thread: it has no shell for the guard.
  if (watchdog && process.platform !== 'win32') {
    flags[Symbol.for(DISMISS_WATCHDOG)] = () => {
      if (guard) return;
      guard = startOrphanGuard(endsWithParent);
      if (guard) void watchdog.terminate();
    };
  }
  try {
    inspector.waitForDebugger();
  } finally {
    delete flags[Symbol.for(WAITING_FLAG)];
    delete flags[Symbol.for(DISMISS_WATCHDOG)];
    void watchdog?.terminate();
    guard?.kill('SIGKILL');
  }
}

// The watchdog's orphan checks, for a parked process whose thread was dismissed: a blocked thread runs no lifeline,
// so a shell outside it SIGKILLs the process if its session's hub goes (or, for a process that ends with its parent,
// its parent dies) before the wait ends.
const ORPHAN_GUARD = `while kill -0 "$1" 2>/dev/null; do
  if { [ "$2" -gt 1 ] && ! kill -0 "$2" 2>/dev/null; } || { [ -n "$3" ] && [ ! -e "$3" ]; }; then kill -9 "$1"; exit 0; fi
  sleep 0.2
done`;

function startOrphanGuard(endsWithParent: boolean): ChildProcess | undefined {
  try {
    const guard = spawn(
      '/bin/sh',
      ['-c', ORPHAN_GUARD, 'forkscope-orphan-guard', String(process.pid), endsWithParent ? String(process.ppid) : '0', hubSocketFile() ?? ''],
      {
        detached: true,
        stdio: 'ignore',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      },
    );
    guard.on('error', () => {});
    guard.unref();
    return guard.pid === undefined ? undefined : guard;
  } catch {
    return undefined;
  }
}

function debugWaitMs(): number {
  const raw = process.env[ENV.debugWaitMs];
  if (raw === undefined || raw === '') return DEFAULT_DEBUG_WAIT_MS;
  const ms = Number(raw);
  return Number.isFinite(ms) && ms >= 0 ? ms : DEFAULT_DEBUG_WAIT_MS;
}

// waitForDebugger() blocks this thread, so the "never parked forever" promise is kept by a worker thread:
// it releases the process (Runtime.runIfWaitingForDebugger over connectToMainThread) when the wait is
// too long, the parent died, or the hub's socket is gone. Its source is a string so the runtime stays
// one bundle with no extra file to find.
const WATCHDOG_SOURCE = `${INTERNAL_THREAD_MARK}
const { workerData } = require('node:worker_threads');
const { existsSync, writeSync } = require('node:fs');
const inspector = require('node:inspector');
const started = Date.now();
function release(reason) {
  clearInterval(timer);
  const session = new inspector.Session();
  session.connectToMainThread();
  // Written straight to fd 2: the main thread, which would relay the worker's stderr, is the one blocked.
  try { writeSync(2, 'forkscope: pid ' + process.pid + ' runs without a debugger: ' + reason + '\\n'); } catch {}
  session.post('Runtime.runIfWaitingForDebugger', () => session.disconnect());
}
const timer = setInterval(() => {
  if (process.ppid !== workerData.ppid) return release('its parent exited');
  if (workerData.hub && !existsSync(workerData.hub)) return release('the debug session ended');
  if (Date.now() - started >= workerData.limit) return release('no debugger attached within ' + workerData.limit + ' ms');
}, 100);
`;

function startWatchdog(limit: number): Worker | undefined {
  try {
    const worker = new Worker(WATCHDOG_SOURCE, {
      eval: true,
      workerData: { limit, ppid: process.ppid, hub: hubSocketFile() },
      name: 'forkscope debugger watchdog',
      // The watchdog must not inherit the program's preload or loader hooks.
      execArgv: [],
      env: {},
      stdout: false,
      stderr: false,
    });
    worker.unref();
    return worker;
  } catch {
    return undefined;
  }
}

/** The session's hub when it is a socket file (not a Windows pipe name), whose removal means the session ended. */
function hubSocketFile(): string | undefined {
  const hub = process.env[ENV.hub];
  return hub && !hub.startsWith('\\\\') && existsSync(hub) ? hub : undefined;
}
