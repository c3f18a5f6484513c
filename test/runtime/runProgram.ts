// Runs a TypeScript program under tsx the way a user would, with a hard deadline: past it the whole
// process group is killed and the run fails with what the program printed. Shared by the runtime tests.
import { readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { isAbsolute, join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

export interface ProgramRun {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

export interface RunOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  deadlineMs?: number;
  /** Where it runs. @default REPO_ROOT */
  cwd?: string;
  /** Node's arguments in place of `--import tsx <file>` (e.g. the `forkscope` CLI and its `run <file>`). */
  nodeArgs?: string[];
}

/** `file` is absolute or relative to the repository root. */
export function runProgram(file: string, { args = [], env = {}, deadlineMs = 60_000, cwd = REPO_ROOT, nodeArgs }: RunOptions = {}): Promise<ProgramRun> {
  const path = isAbsolute(file) ? file : join(REPO_ROOT, file);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(nodeArgs ?? ['--import', 'tsx', path]), ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so the deadline can end grandchildren too
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      reject(new Error(`${file} did not finish within ${deadlineMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, deadlineMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, pid: child.pid! });
    });
  });
}

/** Runs `fn` with stderr muted: a child's uncaught error is printed as Python does; keep reports readable. */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await fn();
  } finally {
    process.stderr.write = write;
  }
}

/**
 * What a program left in `dir` (its TMPDIR) that it should have removed: socket and other per-run directories.
 * The TypeScript compile cache (`forkscope-ts-<uid>`) and the runtime's V8 code cache (`forkscope-v8-<uid>`) are meant
 * to stay, so later runs and children skip esbuild and V8's compiler.
 */
export function leftBehindIn(dir: string): string[] {
  return readdirSync(dir).filter((d) => d.startsWith('forkscope-') && !d.startsWith('forkscope-ts-') && !d.startsWith('forkscope-v8-'));
}
