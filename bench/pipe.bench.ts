// Pipe throughput for 1 MiB payloads against Python's multiprocessing.Pipe, a raw Unix socket between
// the same two Node processes (Node's floor), and a raw socketpair driven from Python with sendall and
// recv_into (the C-level floor: what the kernel gives), in the same run. Needs `npm run build` first.
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

// Two processes (fork) on a socketpair: the child sendall()s N payloads, the parent recv_into()s one reused buffer.
const SOCKETPAIR = String.raw`
import os, socket, sys, time
N = int(sys.argv[1]); SIZE = 1024 * 1024
a, b = socket.socketpair()
pid = os.fork()
if pid == 0:
    a.close()
    buf = b'x' * SIZE
    for _ in range(N): b.sendall(buf)
    b.close()
    os._exit(0)
b.close()
view = memoryview(bytearray(SIZE))
def drain(n):
    got = 0
    while got < n:
        r = a.recv_into(view, min(SIZE, n - got))
        if r == 0: raise EOFError
        got += r
    return got
drain(SIZE)
t = time.perf_counter()
total = drain((N - 1) * SIZE)
dt = time.perf_counter() - t
os.waitpid(pid, 0)
print(total / dt)
`;

function ours(mode: 'pipe' | 'raw'): number {
  const program = join(__dirname, 'programs', 'pipe-ours.ts');
  return Number(execFileSync(process.execPath, ['--import', 'tsx', program, mode, String(N)], { encoding: 'utf8' }).trim());
}

function python(program = PYTHON): number {
  return Number(execFileSync('python3', ['-c', program, String(N)], { encoding: 'utf8' }).trim());
}

const gbs = (n: number) => `${(n / 1e9).toFixed(2)} GB/s`;

export default async function pipeBench(): Promise<void> {
  // Alternate, best of two each: the machine is shared and its load moves.
  const pipe = Math.max(ours('pipe'), ours('pipe'));
  const py = Math.max(python(), python());
  const raw = Math.max(ours('raw'), ours('raw'));
  const pair = Math.max(python(SOCKETPAIR), python(SOCKETPAIR));
  console.log(`Pipe, ${N} payloads of 1 MiB, child → parent`);
  console.log(`  forkscope Pipe             ${gbs(pipe).padStart(12)}`);
  console.log(`  Python multiprocessing     ${gbs(py).padStart(12)}   forkscope/Python ${(pipe / py).toFixed(2)}× (goal ≥ 3×)`);
  console.log(`  raw Unix socket (Node)     ${gbs(raw).padStart(12)}   forkscope/Node socket ${(pipe / raw).toFixed(2)}×`);
  console.log(`  raw socketpair (C floor)   ${gbs(pair).padStart(12)}   forkscope/socketpair ${(pipe / pair).toFixed(2)}× (goal ≥ 0.40×)`);
}
