// Cleans up named shared-memory segments when their last user is gone, even after kill -9: at a normal
// exit this process removes the segments nobody else holds (flock tells), and a tiny watchdog process,
// started on first need, does the same once this process's pipe to it closes, however it died. The same
// watchdog removes the program's socket directory when the process that made it dies (kill -9 included).
// Node's modules only; segments need the native binding for flock, directories do not.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { shmBinding, bindingPath } from './binding';
import { atExit } from '../atExit';

// Runs in the watchdog: argv[1] is the binding (if any); stdin brings "+path" / "-path" lines for segments and
// ">dir" lines for directories until EOF.
const WATCHDOG = `
const { openSync, closeSync, unlinkSync, rmSync } = require('node:fs');
const binding = process.argv[1] ? require(process.argv[1]) : undefined;
const paths = new Set();
const dirs = new Set();
let rest = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\\n');
  rest = lines.pop();
  for (const line of lines) {
    const [kind, path] = [line[0], line.slice(1)];
    if (kind === '+') paths.add(path);
    else if (kind === '-') paths.delete(path);
    else if (kind === '>') dirs.add(path);
  }
});
const removeDirs = () => {
  for (const dir of dirs) try { rmSync(dir, { recursive: true, force: true }); } catch {}
  dirs.clear();
};
// Our pipe closes as the watched process dies, and its shared locks may be let go a moment later: a segment still
// held is tried again for a second before it is left to whoever holds it (their own watchdog sweeps after them).
const sweep = (attempt) => {
  if (attempt === 0) removeDirs();
  if (!binding) paths.clear();
  for (const path of paths) {
    try {
      const fd = openSync(path, 'r+');
      try { if (binding.flock(fd, 1)) { unlinkSync(path); paths.delete(path); } } finally { closeSync(fd); }
    } catch { paths.delete(path); }
  }
  if (paths.size === 0 || attempt >= 50) process.exit(0);
  setTimeout(() => sweep(attempt + 1), 20);
};
process.stdin.on('end', () => sweep(0));
process.stdin.on('error', () => sweep(0));
process.on('SIGTERM', () => {});
process.on('SIGINT', () => {});
`;

let watchdog: ChildProcess | undefined;
const tracked = new Set<string>();

function tell(line: string): void {
  if (!watchdog) {
    const path = bindingPath();
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    watchdog = spawn(process.execPath, ['-e', WATCHDOG, ...(path ? [path] : [])], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env });
    watchdog.on('error', () => {
      watchdog = undefined;
    });
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    watchdog.stdin?.on('error', () => {});
  }
  watchdog.stdin?.write(`${line}\n`);
}

/** Removes `path` if no process holds it any more (call after closing this process's own fd). */
export function unlinkIfUnused(path: string): boolean {
  const binding = shmBinding();
  if (!binding) return false;
  try {
    const fd = openSync(path, 'r+');
    try {
      if (!binding.flock(fd, 1)) return false;
      unlinkSync(path);
      return true;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Watches a named segment this process uses; `closeOwn` releases this process's hold at exit. */
export function trackSegment(path: string, closeOwn: () => void): void {
  if (!tracked.has(path)) tell(`+${path}`);
  tracked.add(path);
  closers.set(path, closeOwn);
}

/** Stops watching (after unlink(), or when told not to track). */
export function untrackSegment(path: string): void {
  if (tracked.delete(path)) tell(`-${path}`);
  closers.delete(path);
}

/** Removes `dir` (recursively) once this process is gone, however it ends: for the program's socket directory. */
export function trackDirectory(dir: string): void {
  tell(`>${dir}`);
}

const closers = new Map<string, () => void>();

atExit(() => {
  for (const [path, closeOwn] of closers) {
    closeOwn();
    unlinkIfUnused(path);
  }
});
