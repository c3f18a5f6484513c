// Queue throughput in every direction and shape against Python's multiprocessing queues, measured in the
// same run (interleaved, best of FORKSCOPE_BENCH_RUNS): bench/programs/queue-shapes.{ts,py} time one shape
// each, from "every party is up" to "every item arrived". Also ours with a hub attached (every put and get
// reported, as under the debugger) and ours without the native binding. Needs `npm run build` first.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { Hub } from '../hub/hub';

const run = promisify(execFile);
const N = Number(process.env.FORKSCOPE_BENCH_ITEMS ?? 200_000);
const RUNS = Number(process.env.FORKSCOPE_BENCH_RUNS ?? 1);
const programs = join(__dirname, 'programs');

/** The real interpreter: the `python3` on PATH may be a slow pyenv shim. */
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

interface Row {
  label: string;
  shape: string;
  kind: string;
  item: string;
  /** The Python shape measured beside it (threads: Python's process queue in the same direction). */
  peer?: string;
  env?: 'hub' | 'nobinding';
  /** Compared with this row's own figure instead of Python's (hub overhead). */
  against?: string;
}

const rows: Row[] = [];
for (const [shape, what] of [
  ['main-child', 'main → child'],
  ['child-main', 'child → main'],
  ['child-child', 'child → child'],
  ['1-4', 'main → 4 children'],
  ['4-1', '4 children → main'],
]) {
  for (const item of ['object', 'number']) rows.push({ label: `Queue ${what}, ${item}s`, shape, kind: 'Queue', item });
}
for (const kind of ['SimpleQueue', 'JoinableQueue']) {
  for (const [shape, what] of [
    ['main-child', 'main → child'],
    ['child-main', 'child → main'],
    ['child-child', 'child → child'],
    ['1-4', 'main → 4 children'],
    ['4-1', '4 children → main'],
  ])
    rows.push({ label: `${kind} ${what}, objects`, shape, kind, item: 'object' });
}
rows.push({ label: 'Queue main → worker thread, objects', shape: 'main-thread', kind: 'Queue', item: 'object', peer: 'main-child' });
rows.push({ label: 'Queue worker thread → main, objects', shape: 'thread-main', kind: 'Queue', item: 'object', peer: 'child-main' });
rows.push({ label: 'Queue thread → thread, objects', shape: 'thread-thread', kind: 'Queue', item: 'object', peer: 'child-child' });
rows.push({ label: 'Queue main → child, objects, no binding', shape: 'main-child', kind: 'Queue', item: 'object', env: 'nobinding' });
rows.push({ label: 'Queue child → main, objects, no binding', shape: 'child-main', kind: 'Queue', item: 'object', env: 'nobinding' });
rows.push({
  label: 'Queue main → child, objects, hub on',
  shape: 'main-child',
  kind: 'Queue',
  item: 'object',
  env: 'hub',
  against: 'Queue main → child, objects',
});
rows.push({
  label: 'Queue child → main, numbers, hub on',
  shape: 'child-main',
  kind: 'Queue',
  item: 'number',
  env: 'hub',
  against: 'Queue child → main, numbers',
});

/** Asynchronous, so that a hub in this process keeps serving the program it measures. */
async function rate(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { stdout } = await run(command, args, { env, encoding: 'utf8', timeout: 300_000 });
  return Number(stdout.trim().split('\n').pop());
}

const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`.padStart(11);

export default async function queueBench(): Promise<void> {
  const base = { ...process.env };
  delete base.FORKSCOPE_HUB;
  delete base.FORKSCOPE_TOKEN;
  const hub = new Hub({ sampleIntervalMs: false });
  const session = await hub.start();
  const envs = { plain: base, hub: { ...base, ...session.env }, nobinding: { ...base, FORKSCOPE_SHM_BINDING: 'none' } };
  const ours = new Map<string, number>();
  const python = new Map<string, number>();
  const pyKey = (r: Row) => `${r.peer ?? r.shape} ${r.kind} ${r.item}`;
  console.log(
    `${N.toLocaleString('en-US')} items per row ({ id, op, v } objects or numbers), best of ${RUNS}, each row interleaved with Python ${PYTHON} (${cpus().length} cores; 1-min load average before each row in brackets)`,
  );
  try {
    // Row by row, so a partial run still says something on a loaded machine.
    // FORKSCOPE_BENCH_ROWS: a regular expression that picks rows by label (e.g. "hub on|4 children").
    const only = process.env.FORKSCOPE_BENCH_ROWS ? new RegExp(process.env.FORKSCOPE_BENCH_ROWS) : undefined;
    for (const row of rows.filter((r) => !only || only.test(r.label))) {
      const load = loadavg()[0]!;
      const key = pyKey(row);
      const ourRate = (env: NodeJS.ProcessEnv) =>
        rate(process.execPath, ['--import', 'tsx', join(programs, 'queue-shapes.ts'), row.shape, row.kind, row.item, String(N)], env);
      // A row with a hub is interleaved with the same program without one (the row it is compared with takes the best).
      const hubRounds = row.env === 'hub' ? Math.max(RUNS, 3) : RUNS;
      for (let round = 0; round < hubRounds; round++) {
        if (row.against) ours.set(row.against, Math.max(ours.get(row.against) ?? 0, await ourRate(envs.plain)));
        const mine = await ourRate(envs[row.env ?? 'plain']);
        ours.set(row.label, Math.max(ours.get(row.label) ?? 0, mine));
        if (row.env || (row.peer && python.has(key) && round === 0)) continue;
        const theirs = await rate(PYTHON, [join(programs, 'queue-shapes.py'), row.peer ?? row.shape, row.kind, row.item, String(N)], base);
        python.set(key, Math.max(python.get(key) ?? 0, theirs));
      }
      const mine = ours.get(row.label)!;
      if (row.against) {
        const without = ours.get(row.against)!;
        const cost = (without / mine - 1) * 100;
        console.log(
          `  ${row.label.padEnd(44)} ${fmt(mine)}  beside no hub ${fmt(without)} (interleaved, best of ${hubRounds}): ${cost >= 0 ? '+' : ''}${cost.toFixed(1)}% time (goal ≤ 10%)${cost <= 10 ? '' : ' ABOVE GOAL'}  [${load.toFixed(1)}]`,
        );
        continue;
      }
      const theirs = python.get(key)!;
      const ratio = mine / theirs;
      const goal = row.env === 'nobinding' ? '' : ` (goal ≥ 2×)${ratio >= 2 ? '' : ' BELOW GOAL'}`;
      console.log(
        `  ${row.label.padEnd(44)} ${fmt(mine)}  Python ${row.peer ? '(processes) ' : ''}${fmt(theirs)}  ${ratio.toFixed(2)}×${goal}  [${load.toFixed(1)}]`,
      );
    }
  } finally {
    await hub.close();
  }
  const counted = hub.model.snapshot().queues.reduce((n, q) => n + q.puts, 0);
  const hubRuns =
    rows.filter((r) => r.env === 'hub' && (!process.env.FORKSCOPE_BENCH_ROWS || new RegExp(process.env.FORKSCOPE_BENCH_ROWS).test(r.label))).length *
    Math.max(RUNS, 3);
  console.log(`  (the hub counted ${counted.toLocaleString('en-US')} puts of ${(hubRuns * N).toLocaleString('en-US')})`);
}
