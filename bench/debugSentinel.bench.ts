// What the debugger sentinel costs a process it watches: an idle session with the Debugger domain on (no
// breakpoint, no pause), beside the same process with a loopback inspector and no session, and with none at all.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const program = join(__dirname, 'programs', 'sentinel-load.ts');

interface Run {
  setupMs: number;
  workMs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export default async function debugSentinelBench(): Promise<void> {
  const n = Number(process.env.FORKSCOPE_BENCH_SENTINEL_RUNS ?? 5);
  // The sentinel records pauses beside the hub's socket; a directory with no hub is enough here.
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-bench-'));
  const env = { ...process.env, FORKSCOPE_DEBUG: '1', FORKSCOPE_HUB: join(dir, 'hub.sock') };
  const runs: Record<string, Run[]> = { none: [], open: [], sentinel: [] };
  try {
    // Interleaved, so the shared machine's load falls on every variant alike.
    for (let i = 0; i < n; i++) {
      for (const mode of Object.keys(runs)) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', program, mode], {
          env,
          encoding: 'utf8',
          timeout: 120_000,
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        runs[mode].push(JSON.parse(out.trim().split('\n').pop()!) as Run);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const work = (mode: string) => median(runs[mode].map((r) => r.workMs));
  const setup = (mode: string) => median(runs[mode].map((r) => r.setupMs));
  console.log(`mixed CPU workload (calls, JSON, sort, throw/catch), median of ${n} processes`);
  console.log(`no inspector: ${work('none').toFixed(1)} ms`);
  console.log(`inspector open, no session: ${work('open').toFixed(1)} ms = ${(work('open') / work('none')).toFixed(3)}x`);
  console.log(
    `inspector + idle sentinel (Debugger on): ${work('sentinel').toFixed(1)} ms = ${(work('sentinel') / work('open')).toFixed(3)}x the inspector alone`,
  );
  console.log(`starting the sentinel: ${(setup('sentinel') - setup('open')).toFixed(2)} ms on the main thread`);
}
