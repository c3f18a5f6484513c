// Runs `forkscope run <program> --snapshot --trace` through the built CLI (runtime/dist) under a hard
// deadline and reads back what it wrote; always removes its temp files. Build first (`npm run build`).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Deadlock, ProgramSnapshot } from '../../hub/snapshot';
import type { TraceEvent } from '../../hub/traceRecorder';

const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'runtime', 'bin', 'forkscope.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export interface ForkscopeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  snapshot: ProgramSnapshot & { deadlocksSeen: Deadlock[] };
  trace: { traceEvents: TraceEvent[] };
}

export interface ForkscopeRunOptions {
  args?: string[];
  deadlineMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Called with the CLI's pid (its process group's id) once its stdout has printed `when`: to interrupt the group, say. */
  onOutput?: { when: RegExp; then: (pid: number, stdout: string) => void };
}

export async function forkscopeRun(program: string, { args = [], deadlineMs = 120_000, env = {}, onOutput }: ForkscopeRunOptions = {}): Promise<ForkscopeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-acc-'));
  try {
    const snapshotFile = join(dir, 'snapshot.json');
    const traceFile = join(dir, 'trace.json');
    const child = spawn(process.execPath, [CLI, 'run', '--snapshot', snapshotFile, '--trace', traceFile, '--', program, ...args], {
      cwd: FIXTURES,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: a test can interrupt it as Ctrl+C does, and the deadline ends all of it
    });
    let stdout = '';
    let stderr = '';
    let fired = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (onOutput && !fired && onOutput.when.test(stdout)) {
        fired = true;
        onOutput.then(child.pid!, stdout);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
        reject(new Error(`forkscope run ${program} hung:\n${stdout}\n${stderr}`));
      }, deadlineMs);
      child.on('exit', (c, signal) => {
        clearTimeout(timer);
        resolve(c ?? (signal ? -1 : null));
      });
    });
    return { code, stdout, stderr, snapshot: JSON.parse(readFileSync(snapshotFile, 'utf8')), trace: JSON.parse(readFileSync(traceFile, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
