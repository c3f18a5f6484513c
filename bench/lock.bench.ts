// Uncontended Lock acquire+release against Python's multiprocessing.Lock, in the same run: in the lock's
// creator, and in a child process (which runs N/20 cycles); beside them our broker fallback
// (FORKSCOPE_SHM_BINDING=none, every child acquire a round trip). Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Enough cycles that the child's share (N/20) is past the JIT's warm-up on both sides. */
const N = 2_000_000;
/** The fallback's child does a round trip per acquire: fewer cycles keep the run short. */
const FALLBACK_N = 200_000;

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

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): [number, number] {
  const [a, b] = execFileSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env } }).trim().split(/\s+/).map(Number);
  return [a!, b!];
}

const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')} ops/s`;

export default async function lockBench(): Promise<void> {
  const ours = run(process.execPath, ['--import', 'tsx', join(__dirname, 'programs', 'lock-ours.ts'), String(N)]);
  const py = run('python3', ['-c', PYTHON, String(N)]);
  const broker = run(process.execPath, ['--import', 'tsx', join(__dirname, 'programs', 'lock-ours.ts'), String(FALLBACK_N)], { FORKSCOPE_SHM_BINDING: 'none' });
  console.log('Lock, uncontended acquire() + release()');
  console.log(`  in the creator:  forkscope ${fmt(ours[0]).padStart(18)}   Python ${fmt(py[0]).padStart(18)}   ratio ${(ours[0] / py[0]).toFixed(2)}×`);
  console.log(`  in a child:      forkscope ${fmt(ours[1]).padStart(18)}   Python ${fmt(py[1]).padStart(18)}   ratio ${(ours[1] / py[1]).toFixed(2)}×`);
  console.log(`  broker fallback (FORKSCOPE_SHM_BINDING=none): creator ${fmt(broker[0])} (${(broker[0] / py[0]).toFixed(2)}× Python), child ${fmt(broker[1])} (${(broker[1] / py[1]).toFixed(4)}× Python)`);
}
