// Queue throughput against Python's multiprocessing.Queue, in the same run: 200,000 small messages from
// one producer process to one consumer process (the queue's creator); also ours with a hub attached
// (every put and get reported, as under the debugger). Needs `npm run build` first.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { Hub } from '../src/hub/hub';

const run = promisify(execFile);
const N = 200_000;

const PYTHON = String.raw`
import sys, time
from multiprocessing import Process, Queue
N = int(sys.argv[1])
def produce(q, n):
    for i in range(n): q.put(i)
if __name__ == '__main__':
    q = Queue()
    p = Process(target=produce, args=(q, N)); p.start()
    q.get()
    t = time.perf_counter()
    for _ in range(N - 1): q.get()
    dt = time.perf_counter() - t
    p.join()
    print((N - 1) / dt)
`;

/** Asynchronous, so that a hub in this process keeps serving the program it measures. */
async function ours(env: NodeJS.ProcessEnv): Promise<number> {
  // Its own program: a child re-imports the main module, which must not be this benchmark runner.
  const program = join(__dirname, 'programs', 'queue-ours.ts');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', program, String(N)], { env, encoding: 'utf8', timeout: 120_000 });
  return Number(stdout.trim());
}

async function python(): Promise<number> {
  const { stdout } = await run('python3', ['-c', PYTHON, String(N)], { encoding: 'utf8', timeout: 120_000 });
  return Number(stdout.trim());
}

const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')} msgs/s`;

export default async function queueBench(): Promise<void> {
  const base = { ...process.env };
  delete base.FORKSCOPE_HUB;
  delete base.FORKSCOPE_TOKEN;
  const hub = new Hub({ sampleIntervalMs: false });
  const session = await hub.start();
  const withHub = { ...base, ...session.env };
  // Interleaved, best of three each: the machine is shared and its load moves.
  const a: number[] = [];
  const h: number[] = [];
  const b: number[] = [];
  try {
    for (let round = 0; round < 3; round++) {
      a.push(await ours(base));
      b.push(await python());
      h.push(await ours(withHub));
    }
  } finally {
    await hub.close();
  }
  const puts = hub.model.snapshot().queues.reduce((n, q) => n + q.puts, 0);
  const [ourBest, hubBest, pyBest] = [Math.max(...a), Math.max(...h), Math.max(...b)];
  console.log(`Queue, ${N.toLocaleString('en-US')} small messages, 1 producer process → 1 consumer process (best of 3, interleaved)`);
  console.log(`  forkscope Queue            ${fmt(ourBest).padStart(18)}   ratio ${(ourBest / pyBest).toFixed(2)}× (goal ≥ 2×)`);
  console.log(`  forkscope Queue, hub on    ${fmt(hubBest).padStart(18)}   ratio ${(hubBest / pyBest).toFixed(2)}×  (the hub counted ${puts.toLocaleString('en-US')} puts of ${(3 * N).toLocaleString('en-US')})`);
  console.log(`  Python multiprocessing     ${fmt(pyBest).padStart(18)}`);
  console.log(`  every run, msgs/s: ours ${a.map(Math.round).join(', ')}; hub on ${h.map(Math.round).join(', ')}; Python ${b.map(Math.round).join(', ')}`);
}
