// start() → first line of run(), per start method, beside its floor and peers measured in the same run:
// a bare `node -e` (the floor), Python's forkserver, and the cost of an idle `forkscope` import.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const programs = join(__dirname, 'programs');

function times(command: string, args: string[]): number[] {
  const out = execFileSync(command, args, { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'inherit'] });
  return (JSON.parse(out.trim().split('\n').pop()!) as { ms: number[] }).ms;
}

/** The median of the runs after the first (the first pays for cold disk caches). */
function median(ms: number[]): number {
  const rest = (ms.length > 2 ? ms.slice(1) : ms).sort((a, b) => a - b);
  return rest[Math.floor(rest.length / 2)];
}

const f = (ms: number): string => `${ms.toFixed(1)} ms`;

export default async function startBench(): Promise<void> {
  const n = Number(process.env.FORKSCOPE_BENCH_STARTS ?? 9);
  const node = process.execPath;
  console.log(`start() → first line of run(), median of ${n - 1} starts after a warm-up`);
  const floor = median(times(node, [join(programs, 'floor.cjs'), String(n)]));
  const withImport = median(times(node, [join(programs, 'floor.cjs'), String(n), 'forkscope']));
  const spawn = median(times(node, [join(programs, 'start.cjs'), 'spawn', String(n)]));
  const thread = median(times(node, [join(programs, 'start.cjs'), 'thread', String(n)]));
  const forkserver = median(times(node, [join(programs, 'start.cjs'), 'forkserver', String(n)]));
  const pyForkserver = median(times('python3', [join(programs, 'start.py'), 'forkserver', String(n)]));
  const tsCount = Math.max(3, Math.ceil(n / 3));
  const ts = median(times(node, ['--import', 'tsx', join(programs, 'start-ts.ts'), String(tsCount)]));
  console.log(`floor: bare node -e → first line ${f(floor)}`);
  console.log(`spawn: ${f(spawn)} = ${(spawn / floor).toFixed(2)}x the floor (goal <= 1.15x)`);
  console.log(`spawn of a .ts program under tsx: ${f(ts)} = ${(ts / floor).toFixed(2)}x the floor`);
  console.log(`forkserver: ${f(forkserver)} vs Python forkserver ${f(pyForkserver)} = ${(forkserver / pyForkserver).toFixed(2)}x (goal <= 5 ms)`);
  console.log(`thread: ${f(thread)}`);
  console.log(`idle forkscope import: ${f(withImport - floor)} on top of the floor (${(withImport / floor).toFixed(2)}x)`);
}
