// Uncontended Lock acquire+release against Python's multiprocessing.Lock, in the same run: in the lock's
// creator, and in a child process. Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const N = 200_000;

const PYTHON = String.raw`
import sys, time
from multiprocessing import Process, Lock, Queue
N = int(sys.argv[1])
def cycles(lock, n):
    t = time.perf_counter()
    for _ in range(n):
        lock.acquire(); lock.release()
    return n / (time.perf_counter() - t)
def remote(lock, out, n): out.put(cycles(lock, n))
if __name__ == '__main__':
    lock = Lock()
    local = cycles(lock, N)
    out = Queue()
    p = Process(target=remote, args=(lock, out, N // 20)); p.start()
    r = out.get(); p.join()
    print(local, r)
`;

function run(command: string, args: string[]): [number, number] {
  const [a, b] = execFileSync(command, args, { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  return [a!, b!];
}

const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')} ops/s`;

export default async function lockBench(): Promise<void> {
  const ours = run(process.execPath, ['--import', 'tsx', join(__dirname, 'programs', 'lock-ours.ts'), String(N)]);
  const py = run('python3', ['-c', PYTHON, String(N)]);
  console.log('Lock, uncontended acquire() + release()');
  console.log(`  in the creator:  forkscope ${fmt(ours[0]).padStart(18)}   Python ${fmt(py[0]).padStart(18)}   ratio ${(ours[0] / py[0]).toFixed(2)}×`);
  console.log(`  in a child:      forkscope ${fmt(ours[1]).padStart(18)}   Python ${fmt(py[1]).padStart(18)}   ratio ${(ours[1] / py[1]).toFixed(4)}×`);
}
