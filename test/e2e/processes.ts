// Reads the Linux process table from /proc: who lives under a folder, who descends from whom.
// Test-only helper for the e2e harness; Node built-ins only, no VS Code or runtime imports.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve, sep } from 'node:path';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  cmdline: string;
  cwd: string | null;
}

function readProcess(pid: number): ProcessInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0').join(' ');
    let cwd: string | null = null;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {}
    return { pid, ppid: Number(rest[1]), pgid: Number(rest[2]), cmdline, cwd };
  } catch {
    return null; // gone between readdir and read
  }
}

/** Every process on the machine (zombies included: they still hold a pid). */
export function allProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProcess(Number(name));
    if (info) out.push(info);
  }
  return out;
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * Processes whose command line mentions `dir` or whose working directory is under it (E2E.md: js-debug
 * starts programs as `node ./main.js` with cwd = workspace, so both must be checked). Never this process.
 */
export function processesOf(dir: string): ProcessInfo[] {
  const root = resolve(dir);
  return allProcesses().filter((p) => p.pid !== process.pid && (p.cmdline.includes(root) || (p.cwd !== null && isUnder(p.cwd, root))));
}

/** `pid`'s descendants (not `pid` itself), children before grandchildren. */
export function descendantsOf(pid: number, table: ProcessInfo[] = allProcesses()): number[] {
  const children = new Map<number, number[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (out.includes(next)) continue;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

/** Whether `pid` is running (a zombie counts as gone: it runs nothing and only waits for its parent's wait()). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function killQuietly(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {}
}
