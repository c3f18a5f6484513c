// start() → first line of run() and start()+join(), per start method, for a .js and a .ts program, beside
// Python's multiprocessing measured in the same run (spawn, forkserver, a burst of 10 as in Python's docs'
// Lock example); the medians leave out each program's first start (cold disk caches, no warm spare yet),
// which has its own row for "spawn"; "thread" beside a raw `new Worker`; and the two-children locked Value counter (200,000
// increments each under getLock(), start-up included). Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const programs = join(__dirname, 'programs');
const loader = join(__dirname, '..', 'runtime', 'dist', 'loader.cjs');

interface Figures {
  first: number[];
  join: number[];
  burst: number[];
  counter: number[];
}

function figures(command: string, args: string[]): Figures {
  const out = execFileSync(command, args, {
    encoding: 'utf8',
    timeout: 900_000,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return { first: [], join: [], burst: [], counter: [], ...(JSON.parse(out.trim().split('\n').pop()!) as Partial<Figures>) };
}

/** The median of the runs after the first (the first pays for cold disk caches and an empty compile cache). */
function median(ms: number[]): number {
  const rest = (ms.length > 2 ? ms.slice(1) : ms).sort((a, b) => a - b);
  return rest[Math.floor(rest.length / 2)] ?? NaN;
}

/** The real interpreter: `python3` on PATH may be a slow pyenv shim that would flatter us. */
function python(): string {
  return execFileSync('python3', ['-c', 'import sys;print(sys.executable)'], { encoding: 'utf8' }).trim();
}

const f = (ms: number): string => `${ms.toFixed(0)} ms`;
const row = (label: string, ours: number, peer: number, peerName: string): void =>
  console.log(`${label.padEnd(44)} ${f(ours).padStart(8)}  ${peerName} ${f(peer).padStart(8)}  = ${(ours / peer).toFixed(2)}x`);

export default async function startBench(): Promise<void> {
  const n = Number(process.env.FORKSCOPE_BENCH_STARTS ?? 7);
  const node = process.execPath;
  const py = python();
  console.log(`median of ${n - 1} starts after a warm-up; bursts: median of 3 rounds of 10; Node ${process.version}, ${py}`);
  const peer = {
    spawn: figures(py, [join(programs, 'startup.py'), 'spawn', String(n)]),
    forkserver: figures(py, [join(programs, 'startup.py'), 'forkserver', String(n)]),
    counter: figures(py, [join(programs, 'startup.py'), 'counter', '3']),
  };
  const rawWorker = figures(node, [join(programs, 'rawWorker.cjs'), String(n)]);
  for (const [kind, args] of [
    ['.js', [join(programs, 'startup.cjs')]],
    ['.ts', ['--require', loader, join(programs, 'startup.ts')]],
  ] as const) {
    const run = (method: string): Figures => figures(node, [...args, method, String(n)]);
    const spawn = run('spawn');
    const forkserver = run('forkserver');
    const thread = run('thread');
    // The program's first start finds no warm spare (popen.ts): a cold Node boot, shown apart from the median.
    row(`${kind} spawn: the program's first start, cold`, spawn.first[0] ?? NaN, peer.spawn.first[0] ?? NaN, 'Python');
    row(`${kind} spawn: start() → first line of run()`, median(spawn.first), median(peer.spawn.first), 'Python');
    row(`${kind} spawn: start() + join()`, median(spawn.join), median(peer.spawn.join), 'Python');
    row(`${kind} spawn: burst of 10, start() … join()`, median(spawn.burst), median(peer.spawn.burst), 'Python');
    row(`${kind} forkserver: start() → first line`, median(forkserver.first), median(peer.forkserver.first), 'Python');
    row(`${kind} forkserver: start() + join()`, median(forkserver.join), median(peer.forkserver.join), 'Python');
    row(`${kind} forkserver: burst of 10`, median(forkserver.burst), median(peer.forkserver.burst), 'Python');
    row(`${kind} thread: start() → first line (goal 50 ms)`, median(thread.first), median(rawWorker.first), 'new Worker');
  }
  const counter = figures(node, [join(programs, 'startup.cjs'), 'counter', '3']);
  row('2 children x 200,000 locked Value increments', median(counter.counter), median(peer.counter.counter), 'Python');
}
