// Attach at scale in the real workbench (code-server + Chromium, test/e2e/harness.ts): time from Start Debugging
// until 4, 16 and 32 forked children are all paused at a breakpoint on their first line, under a `forkscope`
// launch beside js-debug's own `autoAttachChildProcesses` (a `node` launch) on the same program in the same
// workbench run. Both are timed by one clock: a DAP tracker extension (test/fixtures/e2e-dap-recorder) stamps every
// session's `stopped` event and the top frame the workbench then reads. Skipped where code-server is not installed.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  closeAllWorkbenches,
  createWorkspace,
  dapEvents,
  dapRecorderVsix,
  e2eEnvironmentReady,
  processesOf,
  REPO_ROOT,
  startWorkbench,
  waitFor,
  type DapEvent,
  type Workbench,
} from '../test/e2e/harness';
import { killQuietly } from '../test/e2e/processes';
import { CODE_SERVER_VERSION } from '../scripts/e2e-env.mjs';

const FANOUT = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'e2e-fanout.cjs'), 'utf8');
const FIRST_LINE = FANOUT.split('\n').findIndex((l) => l.includes('// FIRST_USER_LINE')) + 1;
/** After the last new pause, how long to wait for more before counting the missing children as failed attaches. */
const QUIET_MS = 30_000;

type Peer = 'js-debug' | 'forkscope';

interface Run {
  /** Start Debugging → the N-th child's `stopped` event at FIRST_LINE (NaN when not all N paused). */
  ms: number;
  paused: number;
  /** Children that ran past FIRST_LINE without a stop (none paused for QUIET_MS, or the deadline passed). */
  failed: number;
  /** Program processes still alive after Stop (js-debug leaves double-forked ones; killed here). */
  orphans: number;
  /** What the debugger said about the children it could not attach (Forkscope names each; js-debug says nothing). */
  reasons: string[];
}

const configName = (peer: Peer, n: number) => `${peer} ${n}`;

function launchConfigurations(counts: number[]): object[] {
  return counts.flatMap((n) => [
    {
      type: 'node',
      request: 'launch',
      name: configName('js-debug', n),
      program: '${workspaceFolder}/fanout.cjs',
      args: [String(n)],
      autoAttachChildProcesses: true,
    },
    { type: 'forkscope', request: 'launch', name: configName('forkscope', n), program: '${workspaceFolder}/fanout.cjs', args: [String(n)] },
  ]);
}

/** The sessions paused at the fan-out's first child line since event `from`: session id → time of its stop. */
function pausedAtFirstLine(events: DapEvent[], from: number): Map<string, number> {
  const stoppedAt = new Map<string, number>();
  const paused = new Map<string, number>();
  for (const e of events.slice(from)) {
    if (e.ev === 'stopped' && e.reason === 'breakpoint') stoppedAt.set(e.id, e.t);
    else if (e.ev === 'stack' && stoppedAt.has(e.id) && e.line === FIRST_LINE && /fanout\.cjs$/.test(e.path) && !paused.has(e.id))
      paused.set(e.id, stoppedAt.get(e.id)!);
  }
  return paused;
}

async function measure(wb: Workbench, peer: Peer, n: number): Promise<Run> {
  const from = dapEvents(wb.workspace).length;
  await wb.runCommand('Debug: Select and Start Debugging');
  const t0 = Date.now();
  await wb.quickPick(configName(peer, n), 30_000);
  const deadline = t0 + 60_000 + n * 5_000;
  let last = { count: 0, at: Date.now() };
  let paused = new Map<string, number>();
  while (Date.now() < deadline) {
    paused = pausedAtFirstLine(dapEvents(wb.workspace), from);
    if (paused.size >= n) break;
    if (paused.size > last.count) last = { count: paused.size, at: Date.now() };
    else if (paused.size > 0 && Date.now() - last.at > QUIET_MS) break;
    await delay(200);
  }
  const ms = paused.size >= n ? Math.max(...paused.values()) - t0 : NaN;
  const events = dapEvents(wb.workspace).slice(from);
  if (process.env.BENCH_DEBUG) for (const e of events) console.error(JSON.stringify({ ...e, t: e.t - t0 }));
  const reasons = events.flatMap((e) =>
    e.ev === 'output' && /could not attach/i.test(e.output) ? [`${((e.t - t0) / 1000).toFixed(1)} s: ${e.output.trim()}`] : [],
  );
  const orphans = await stop(wb);
  return { ms, paused: Math.min(paused.size, n), failed: Math.max(0, n - paused.size), orphans, reasons };
}

const fanoutProcesses = (workspace: string) => processesOf(workspace).filter((p) => /fanout\.cjs/.test(p.cmdline));

/** Stop (Shift+F5), then waits for the program's processes to end; kills and counts those that do not. */
async function stop(wb: Workbench): Promise<number> {
  await wb.page.keyboard.press('Escape');
  await wb.page.keyboard.press('Shift+F5');
  await waitFor('the program to end', () => fanoutProcesses(wb.workspace).length === 0, 20_000).catch(() => undefined);
  const left = fanoutProcesses(wb.workspace);
  for (const p of left) killQuietly(p.pid, 'SIGKILL');
  // A session js-debug keeps for an orphan ends once the orphan is gone.
  await waitFor('the Call Stack to empty', async () => (await wb.callStackRows()).length === 0, 30_000).catch(() => undefined);
  await delay(2_000); // let the machine settle before the next run
  return left.length;
}

const cell = (r: Run) => (Number.isNaN(r.ms) ? `${r.paused} paused` : `${r.ms.toFixed(0)} ms`);

export default async function attachWorkbenchBench(): Promise<void> {
  if (!e2eEnvironmentReady()) {
    console.log('skipped: code-server is not installed here (`node scripts/e2e-env.mjs` installs the e2e environment)');
    return;
  }
  const counts = process.env.BENCH_N ? [Number(process.env.BENCH_N)] : [4, 16, 32];
  const workspace = createWorkspace('attach-bench', { files: { 'fanout.cjs': FANOUT }, launch: launchConfigurations(counts) });
  let wb: Workbench | undefined;
  try {
    wb = await startWorkbench({ workspace, name: 'attach-bench', extraVsix: [dapRecorderVsix()] });
    await waitFor('the DAP recorder to start', () => dapEvents(workspace).some((e) => e.ev === 'ready'), 60_000);
    await wb.openFile('fanout.cjs');
    await wb.goToLine(FIRST_LINE);
    await wb.toggleBreakpoint();
    console.log(`Start Debugging → all N children paused at fanout.cjs:${FIRST_LINE}, in code-server ${CODE_SERVER_VERSION} (one workbench, runs alternate)`);
    console.log(
      'children | forkscope launch | js-debug autoAttachChildProcesses | ratio (js-debug / forkscope) | failed attaches (forkscope / js-debug) | orphans after Stop (forkscope / js-debug)',
    );
    for (const n of counts) {
      const theirs = await measure(wb, 'js-debug', n);
      const ours = await measure(wb, 'forkscope', n);
      const ratio = Number.isNaN(ours.ms) || Number.isNaN(theirs.ms) ? '-' : `${(theirs.ms / ours.ms).toFixed(2)}x`;
      console.log(
        `${String(n).padStart(8)} | ${cell(ours).padStart(16)} | ${cell(theirs).padStart(33)} | ${ratio.padStart(27)} | ${`${ours.failed} / ${theirs.failed}`.padStart(39)} | ${ours.orphans} / ${theirs.orphans}`,
      );
      // The first few reasons, so a failed attach can be looked into without a rerun.
      for (const reason of ours.reasons.slice(0, 3)) console.log(`         forkscope, ${reason}`);
      if (ours.reasons.length > 3) console.log(`         forkscope: ${ours.reasons.length - 3} more "could not attach"`);
    }
  } finally {
    await (wb ? wb.close() : closeAllWorkbenches());
    for (const p of fanoutProcesses(workspace)) killQuietly(p.pid, 'SIGKILL');
    rmSync(workspace, { recursive: true, force: true });
  }
}

if (require.main === module) attachWorkbenchBench().catch((error: unknown) => (console.error(error), (process.exitCode = 1)));
