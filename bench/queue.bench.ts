// Queue throughput against Python's multiprocessing.Queue, in the same run: 200,000 small messages from
// one producer process to one consumer process (the queue's creator). Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

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

function ours(): number {
  // Its own program: a child re-imports the main module, which must not be this benchmark runner.
  const program = join(__dirname, 'programs', 'queue-ours.ts');
  return Number(execFileSync(process.execPath, ['--import', 'tsx', program, String(N)], { encoding: 'utf8' }).trim());
}

function python(): number {
  return Number(execFileSync('python3', ['-c', PYTHON, String(N)], { encoding: 'utf8' }).trim());
}

const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')} msgs/s`;

export default async function queueBench(): Promise<void> {
  // Alternate, best of two each: the machine is shared and its load moves.
  const a = Math.max(ours(), ours());
  const b = Math.max(python(), python());
  console.log(`Queue, ${N.toLocaleString('en-US')} small messages, 1 producer process → 1 consumer process`);
  console.log(`  forkscope Queue            ${fmt(a).padStart(18)}`);
  console.log(`  Python multiprocessing     ${fmt(b).padStart(18)}   ratio ${(a / b).toFixed(2)}× (goal ≥ 2×)`);
}
