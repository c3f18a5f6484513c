// Pipe throughput for 1 MiB payloads against Python's multiprocessing.Pipe and a raw Unix socket between
// the same two Node processes (the floor), in the same run. Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const N = 300;

const PYTHON = String.raw`
import sys, time
from multiprocessing import Process, Pipe
N = int(sys.argv[1]); SIZE = 1024 * 1024
def produce(c, n):
    buf = b'x' * SIZE
    for _ in range(n): c.send_bytes(buf)
    c.close()
if __name__ == '__main__':
    a, b = Pipe(duplex=False)
    p = Process(target=produce, args=(b, N)); p.start(); b.close()
    a.recv_bytes()
    t = time.perf_counter(); total = 0
    for _ in range(N - 1): total += len(a.recv_bytes())
    dt = time.perf_counter() - t
    p.join()
    print(total / dt)
`;

function ours(mode: 'pipe' | 'raw'): number {
  const program = join(__dirname, 'programs', 'pipe-ours.ts');
  return Number(execFileSync(process.execPath, ['--import', 'tsx', program, mode, String(N)], { encoding: 'utf8' }).trim());
}

function python(): number {
  return Number(execFileSync('python3', ['-c', PYTHON, String(N)], { encoding: 'utf8' }).trim());
}

const gbs = (n: number) => `${(n / 1e9).toFixed(2)} GB/s`;

export default async function pipeBench(): Promise<void> {
  // Alternate, best of two each: the machine is shared and its load moves.
  const pipe = Math.max(ours('pipe'), ours('pipe'));
  const py = Math.max(python(), python());
  const raw = Math.max(ours('raw'), ours('raw'));
  console.log(`Pipe, ${N} payloads of 1 MiB, child → parent`);
  console.log(`  forkscope Pipe             ${gbs(pipe).padStart(12)}`);
  console.log(`  Python multiprocessing     ${gbs(py).padStart(12)}   forkscope/Python ${(pipe / py).toFixed(2)}× (goal ≥ 3×)`);
  console.log(`  raw Unix socket (Node)     ${gbs(raw).padStart(12)}   forkscope/raw ${(pipe / raw).toFixed(2)}× (goal ≥ 0.40×)`);
}
