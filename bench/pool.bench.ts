// Pool throughput on tiny tasks beside its peers measured in the same run: Python's multiprocessing.Pool.map
// (a default Pool() with its start-up; 2 warm workers with the default chunksize and chunksize 1) and piscina's
// run() per task (thread mode); and chunksize 1 with a hub attached (as under `forkscope run`) beside the same
// program without, runs interleaved. FORKSCOPE_BENCH_ROWS picks rows by label.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { Hub } from '../hub/hub';

const programs = join(__dirname, 'programs');
const COUNT = Number(process.env.FORKSCOPE_BENCH_TASKS ?? 200_000);

function rate(command: string, args: string[]): number {
  const out = execFileSync(command, args, { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'inherit'] });
  return (JSON.parse(out.trim().split('\n').pop()!) as { tasksPerSecond: number }).tasksPerSecond;
}

function line(label: string, ours: number, peerLabel: string, peer: number, goal: number): void {
  const ratio = ours / peer;
  const fmt = (n: number): string => `${Math.round(n).toLocaleString('en-US')}/s`;
  console.log(`${label}: ${fmt(ours)} vs ${peerLabel} ${fmt(peer)} = ${ratio.toFixed(2)}x (goal >= ${goal}x) ${ratio >= goal ? 'ok' : 'BELOW GOAL'}`);
}

/** Asynchronous, so that a hub in this process keeps serving the program it measures. */
async function rateAsync(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, args, { env, encoding: 'utf8', timeout: 300_000 });
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { tasksPerSecond: number }).tasksPerSecond;
}

/** pool.map chunksize 1 with a hub and without, alternately, best of `runs` each; and whether the hub counted every task. */
export async function underHub(runs: number): Promise<void> {
  const hub = new Hub({ sampleIntervalMs: false });
  const session = await hub.start();
  const plain = { ...process.env };
  delete plain.FORKSCOPE_HUB;
  delete plain.FORKSCOPE_TOKEN;
  const args = [join(programs, 'pool.cjs'), 'map1', String(COUNT)];
  let without = 0;
  let withHub = 0;
  try {
    for (let i = 0; i < runs; i++) {
      without = Math.max(without, await rateAsync(args, plain));
      withHub = Math.max(withHub, await rateAsync(args, { ...plain, ...session.env }));
    }
  } finally {
    await hub.close();
  }
  const counted = hub.model.snapshot().pools.reduce((n, p) => n + p.done, 0);
  const cost = (without / withHub - 1) * 100;
  const fmt = (n: number): string => `${Math.round(n).toLocaleString('en-US')}/s`;
  console.log(
    `pool.map, chunksize 1, hub on: ${fmt(withHub)} beside no hub ${fmt(without)}: ${cost >= 0 ? '+' : ''}${cost.toFixed(1)}% time (goal <= 10%) ${cost <= 10 ? 'ok' : 'ABOVE GOAL'}; the hub counted ${counted.toLocaleString('en-US')} tasks done of ${(runs * (COUNT + 4)).toLocaleString('en-US')}`,
  );
}

/** Ours and the peer alternately, best of `runs` each: a burst of someone else's load then hits both sides alike. */
function interleaved(runs: number, ours: () => number, peer: () => number): [number, number] {
  let a = 0;
  let b = 0;
  for (let i = 0; i < runs; i++) {
    a = Math.max(a, ours());
    b = Math.max(b, peer());
  }
  return [a, b];
}

export default async function poolBench(): Promise<void> {
  const runs = Number(process.env.FORKSCOPE_BENCH_RUNS ?? 3);
  // FORKSCOPE_BENCH_ROWS: a regular expression that picks rows by label (e.g. "start-up|hub").
  const only = process.env.FORKSCOPE_BENCH_ROWS ? new RegExp(process.env.FORKSCOPE_BENCH_ROWS) : undefined;
  const want = (label: string): boolean => !only || only.test(label);
  console.log(`${COUNT.toLocaleString('en-US')} tiny tasks (x*x), best of ${runs}, each row interleaved with its peer`);
  const node = process.execPath;
  const ours = (mode: string) => () => rate(node, [join(programs, 'pool.cjs'), mode, String(COUNT)]);
  const python = (mode: string) => () => rate('python3', [join(programs, 'pool.py'), mode, String(COUNT)]);
  const row = (label: string, mode: string, peerLabel: string, goal: number): void => {
    if (!want(label)) return;
    const [a, b] = interleaved(runs, ours(mode), python(mode));
    line(label, a, peerLabel, b, goal);
  };
  // The issue's row: a program's whole pool.map, the workers' start-up included (Python forks its workers).
  row('pool.map, default Pool() and chunksize, start-up included', 'cold', 'Python Pool().map', 1);
  row('pool.map, 2 workers, default chunksize', 'map', 'Python Pool.map', 1);
  row('pool.map, 2 workers, chunksize 1', 'map1', 'Python Pool.map chunksize=1', 2);
  if (want('pool.map, thread, chunksize 1')) {
    const piscinaCount = Math.min(COUNT, 50_000);
    const [a, b] = interleaved(runs, ours('thread1'), () => rate(node, [join(programs, 'piscina.cjs'), String(piscinaCount)]));
    line('pool.map, thread, chunksize 1', a, 'piscina run() per task', b, 3);
  }
  if (want('hub')) await underHub(runs);
}
