// Runs every rule once over a small program right after start-up, so the JIT has compiled the parser and
// the rules before the user's first file arrives (the first analysis is otherwise several times slower).
import { analyze } from './analysis/analyze';

const SAMPLE = `import { Process, Pool, Queue, Lock, isMainProcess } from 'forkscope';
let seen = 0;
export async function work(x: number, lock: Lock, q: Queue) {
  await lock.acquire();
  seen += x;
  lock.release();
  await q.put(x * x);
}
function hidden() {}
const pool = new Pool();
if (isMainProcess()) {
  const q = new Queue();
  const p = new Process({ target: work, args: [1, new Lock(), q, () => 1] });
  p.start();
  await p.join();
  await q.get();
  await pool.map(hidden, Array.from({ length: 5000 }), { chunksize: 1 });
}
`;

export function warmUp(rounds = 3): void {
  for (let i = 0; i < rounds; i++) analyze(SAMPLE.replace('seen = 0', `seen = ${i}`), 'warm-up.ts');
}
