// Ends a program's whole process tree: its process group, every descendant pidtree still sees, every pid
// the program announced, and (on Linux) any process carrying the session's marker in its environment, which
// catches double-forked escapees. No `vscode`.
import { readdirSync, readFileSync } from 'node:fs';
import pidtree from 'pidtree';
import { ENV } from '../../runtime/src/protocol';

/** Environment variable every process of a debug session inherits, so escapees can be found by it. */
export const SESSION_MARKER_ENV = ENV.debugSession;

export interface TreeKillOptions {
  /** The program's main process; absent when it never announced itself (then the other sources name the tree). */
  rootPid?: number;
  /** Pids the program announced (its hello frames). */
  knownPids?: Iterable<number>;
  /** The value of SESSION_MARKER_ENV given to the program. */
  marker?: string;
}

/** Every pid of the program still alive, found before anything is killed (a dead parent loses its tree). */
export async function programPids(options: TreeKillOptions): Promise<Set<number>> {
  const pids = new Set<number>(options.knownPids ?? []);
  if (options.rootPid !== undefined && options.rootPid > 0) pids.add(options.rootPid);
  try {
    if (options.rootPid !== undefined && options.rootPid > 0) for (const pid of await pidtree(options.rootPid)) pids.add(pid);
  } catch {
    // The root is already gone: the other sources still name what is left.
  }
  if (options.marker && process.platform === 'linux') for (const pid of pidsWithMarker(options.marker)) pids.add(pid);
  pids.delete(process.pid);
  return pids;
}

/** SIGKILLs the program's process group and every pid found; resolves once none is alive (or after 3 s). */
export async function killProgramTree(options: TreeKillOptions): Promise<void> {
  const pids = await programPids(options);
  if (process.platform !== 'win32' && options.rootPid !== undefined && options.rootPid > 1) tryKill(-options.rootPid);
  for (const pid of pids) tryKill(pid);
  const deadline = Date.now() + 3_000;
  // A process of the program may start one more while it is being killed (after the scan above): the marker finds
  // it, so look again until a look finds nobody new.
  const lookAgain = () => {
    if (!options.marker || process.platform !== 'linux') return false;
    let found = false;
    for (const pid of pidsWithMarker(options.marker)) {
      if (pid === process.pid || pids.has(pid)) continue;
      pids.add(pid);
      tryKill(pid);
      found = true;
    }
    return found;
  };
  while (([...pids].some(isAlive) || lookAgain()) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    for (const pid of pids) if (isAlive(pid)) tryKill(pid);
  }
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone, or not ours.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    if (process.platform === 'linux') {
      // A zombie still answers signal 0; it is dead for our purpose and its parent will reap it.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    }
    return true;
  } catch {
    return false;
  }
}

function pidsWithMarker(marker: string): number[] {
  const needle = Buffer.from(`\0${SESSION_MARKER_ENV}=${marker}\0`);
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${name}/environ`), Buffer.from([0])]);
      if (environ.includes(needle)) out.push(Number(name));
    } catch {
      // Not ours to read, or gone.
    }
  }
  return out;
}
