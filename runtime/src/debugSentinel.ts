// The debugger sentinel: in a debugged process, an in-thread inspector session with the Debugger domain on that
// records the main thread's pauses where another process can read them, so a pool's task timeout can leave out the
// time its worker sat at a breakpoint. Node's modules only.
//
// Why a file: the question "how long was the worker paused?" must be answerable while the worker's main thread is
// stopped, and pauses are human-paced, so the sentinel writes its pause spans (wall clock) to a small file in the
// hub's private 0700 directory on each pause and resume; a parent reads it only when a task timer expires.
// Why in-thread: V8 calls a same-thread session's Debugger.paused listener synchronously as the pause begins, and
// such a session alone never holds the thread (a released process's `debugger` statement goes on at once), nor does
// it keep an exiting process alive. A helper thread would, and js-debug would list it as a worker of every process.
import * as inspector from 'node:inspector';
import { threadId } from 'node:worker_threads';
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ENV } from './protocol';
import { atExit } from './atExit';

/** Longest wall-clock span list a sentinel keeps: older pauses cannot overlap a task that is still timed. */
const MAX_SPANS = 64;

/** What a sentinel writes: the open pause (ms since epoch, or null) and the last finished ones. */
interface PauseRecord {
  since: number | null;
  spans: Array<[number, number]>;
}

let started = false;

/** Where the sentinel of a process's main thread (threadId 0) or worker thread records its pauses; undefined when off. */
function recordFile(pid: number, threadId: number): string | undefined {
  const dir = recordDir();
  return dir === undefined ? undefined : join(dir, threadId === 0 ? `paused-${pid}.json` : `paused-${pid}-${threadId}.json`);
}

let cachedDir: string | null | undefined;
function recordDir(): string | undefined {
  if (cachedDir !== undefined) return cachedDir ?? undefined;
  const hub = process.env[ENV.hub];
  // A Windows named pipe has no directory beside it to record in.
  const usable = process.env[ENV.debug] === '1' && !!hub && !hub.startsWith('\\\\') && existsSync(dirname(hub));
  cachedDir = usable ? dirname(hub!) : null;
  return cachedDir ?? undefined;
}

/** True when this process's debugging session records pauses (debugging on, a hub directory). */
export function isPauseAccounting(): boolean {
  return recordDir() !== undefined;
}

/** Starts this thread's sentinel once; a no-op where pause accounting is off. */
export function startDebugSentinel(): void {
  if (started) return;
  // A worker thread records its own pauses: js-debug stops it through its process's inspector (NodeWorker).
  const file = recordFile(process.pid, threadId);
  if (!file) return;
  started = true;
  const record: PauseRecord = { since: null, spans: [] };
  const save = (): void => {
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(record));
      renameSync(`${file}.tmp`, file);
    } catch {
      // The session's directory is gone: nobody is left to ask.
    }
  };
  try {
    const session = new inspector.Session();
    session.connect();
    session.on('Debugger.paused', () => {
      record.since = Date.now();
      save();
    });
    session.on('Debugger.resumed', () => {
      if (record.since === null) return;
      record.spans.push([record.since, Date.now()]);
      if (record.spans.length > MAX_SPANS) record.spans.shift();
      record.since = null;
      save();
    });
    session.post('Debugger.enable');
  } catch {
    // No sentinel: task timeouts count paused time, as they did before it.
    return;
  }
  const remove = (): void => {
    try {
      unlinkSync(file);
    } catch {
      // never paused: no file
    }
  };
  // In a worker thread, `process` is the thread's own: its 'exit' is the thread's end.
  atExit(remove);
}

/** How long, within [from, to], any of `threads` (a process's main thread is threadId 0) was paused in a debugger, and whether one still is. */
export function pausedWithin(threads: Iterable<{ pid: number; threadId: number }>, from: number, to: number): { pausedMs: number; pausedNow: boolean } {
  const spans: Array<[number, number]> = [];
  let pausedNow = false;
  const seen = new Set<string>();
  for (const { pid, threadId } of threads) {
    if (seen.has(`${pid}/${threadId}`)) continue;
    seen.add(`${pid}/${threadId}`);
    const record = readRecord(pid, threadId);
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

function readRecord(pid: number, threadId: number): PauseRecord | undefined {
  const file = recordFile(pid, threadId);
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
