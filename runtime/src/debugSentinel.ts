// The debugger sentinel: in a debugged process, a helper thread that watches the main thread's pauses (a session
// from connectToMainThread with the Debugger domain on) and records them where another process can read them, so
// a pool's task timeout can leave out the time its worker sat at a breakpoint. Node's modules only.
//
// Why a file: the question "how long was the worker paused?" must be answerable while the worker's main thread
// is stopped, and pauses are human-paced, so the sentinel writes its pause spans (wall clock) to a small file in
// the hub's private 0700 directory on each pause and resume; a parent reads it only when a task timer expires.
// Why /proc: with the Debugger domain on, a `debugger` statement pauses the process even when no debugger is
// attached (a released child); the sentinel resumes any pause that no client connected to the inspector sees.
import { Worker } from 'node:worker_threads';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ENV } from './protocol';
import { INTERNAL_THREAD_MARK } from './internalThreads';

/** Longest wall-clock span list a sentinel keeps: older pauses cannot overlap a task that is still timed. */
const MAX_SPANS = 64;

/** What a sentinel writes: the open pause (ms since epoch, or null) and the last finished ones. */
interface PauseRecord {
  since: number | null;
  spans: Array<[number, number]>;
}

const SENTINEL_SOURCE = `${INTERNAL_THREAD_MARK}
const { workerData } = require('node:worker_threads');
const inspector = require('node:inspector');
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const { file, port, maxSpans } = workerData;
let since = null;
const spans = [];
let watch;
function save() {
  try {
    writeFileSync(file + '.tmp', JSON.stringify({ since, spans }));
    renameSync(file + '.tmp', file);
  } catch {}
}
// The inspector's listening socket is in state 0A; an ESTABLISHED (01) socket on its port is a connected client.
const portHex = ':' + port.toString(16).toUpperCase().padStart(4, '0');
function clientConnected() {
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let text;
    try { text = readFileSync(table, 'latin1'); } catch { continue; }
    for (const line of text.split('\\n')) {
      const f = line.trim().split(/\\s+/);
      if (f[3] === '01' && f[1] && f[1].endsWith(portHex)) return true;
    }
  }
  return false;
}
const session = new inspector.Session();
session.connectToMainThread();
session.on('Debugger.paused', () => {
  // Nobody to show this pause to (a released process ran a debugger statement): go on as if no debugger were on.
  if (!clientConnected()) return session.post('Debugger.resume');
  since = Date.now();
  save();
  // A debugger that leaves while the process is paused must not leave it parked forever.
  clearInterval(watch);
  watch = setInterval(() => { if (!clientConnected()) session.post('Debugger.resume'); }, 1000);
});
session.on('Debugger.resumed', () => {
  clearInterval(watch);
  if (since === null) return;
  spans.push([since, Date.now()]);
  if (spans.length > maxSpans) spans.shift();
  since = null;
  save();
});
session.post('Debugger.enable');
// An inspector session keeps no event loop alive; this thread must live as long as its process.
setInterval(() => {}, 1 << 30);
`;

let started = false;

/** Where the sentinel of process `pid` records its pauses; undefined when pause accounting is off. */
function recordFile(pid: number): string | undefined {
  const dir = recordDir();
  return dir === undefined ? undefined : join(dir, `paused-${pid}.json`);
}

let cachedDir: string | null | undefined;
function recordDir(): string | undefined {
  if (cachedDir !== undefined) return cachedDir ?? undefined;
  const hub = process.env[ENV.hub];
  // Linux only: the sentinel tells an attached debugger from none through /proc (see the file's opening lines).
  const usable = process.env[ENV.debug] === '1' && process.platform === 'linux' && !!hub && !hub.startsWith('\\\\') && existsSync(dirname(hub));
  cachedDir = usable ? dirname(hub!) : null;
  return cachedDir ?? undefined;
}

/** True when this process's debugging session records pauses (debugging on, Linux, a hub directory). */
export function isPauseAccounting(): boolean {
  return recordDir() !== undefined;
}

/** Starts this process's sentinel once, for the inspector at `inspectorUrl`; a no-op where accounting is off. */
export function startDebugSentinel(inspectorUrl: string): void {
  if (started) return;
  const file = recordFile(process.pid);
  const port = Number(new URL(inspectorUrl).port);
  if (!file || !port) return;
  started = true;
  try {
    const worker = new Worker(SENTINEL_SOURCE, {
      eval: true,
      workerData: { file, port, maxSpans: MAX_SPANS },
      // js-debug lists every worker thread of a process it attaches to; this is the title it shows.
      name: 'forkscope debugger sentinel',
      // Like the watchdog: no preload, no loader hooks, nothing of the program's.
      execArgv: [],
      env: {},
      stdout: false,
      stderr: false,
    });
    worker.unref();
    process.once('exit', () => {
      // Node waits at exit until every session that prevents shutdown leaves, and a connectToMainThread session
      // is one of them: under process.exit() the sentinel's would hold the process forever. Ending the thread ends it.
      void worker.terminate();
      try {
        unlinkSync(file);
      } catch {
        // never paused: no file
      }
    });
  } catch {
    // No sentinel: task timeouts count paused time, as they did before it.
  }
}

/** How long, within [from, to], any of `pids` was paused in a debugger, and whether one still is. */
export function pausedWithin(pids: Iterable<number>, from: number, to: number): { pausedMs: number; pausedNow: boolean } {
  const spans: Array<[number, number]> = [];
  let pausedNow = false;
  for (const pid of new Set(pids)) {
    const record = readRecord(pid);
    if (!record) continue;
    for (const [a, b] of record.spans) if (b > from && a < to) spans.push([Math.max(a, from), Math.min(b, to)]);
    if (record.since !== null) {
      pausedNow = true;
      if (record.since < to) spans.push([Math.max(record.since, from), to]);
    }
  }
  // The union: a parent and its worker paused together (all-stop) is one pause, not two.
  spans.sort((x, y) => x[0] - y[0]);
  let pausedMs = 0;
  let end = -Infinity;
  for (const [a, b] of spans) {
    const start = Math.max(a, end);
    if (b > start) pausedMs += b - start;
    end = Math.max(end, b);
  }
  return { pausedMs, pausedNow };
}

function readRecord(pid: number): PauseRecord | undefined {
  const file = recordFile(pid);
  if (!file) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as PauseRecord;
    if (!Array.isArray(parsed.spans)) return undefined;
    return { since: typeof parsed.since === 'number' ? parsed.since : null, spans: parsed.spans.filter((s) => Array.isArray(s) && s.length === 2) };
  } catch {
    // Never paused (no file yet), or ended.
    return undefined;
  }
}
