// Measured by bench/shared.bench.ts beside counter.py: two children each add 1 to one Value `n` times under its
// getLock(), timed from the Value's creation to the end of both join()s (the children's start-up included).
// Plain JavaScript (no loader), so the figure is the runtime's own. argv: n. Prints {"opsPerSecond": x}.
const { Process, Value, isMainProcess } = require('forkscope');

async function count(v, n) {
  const lock = v.getLock();
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    v.value += 1;
    lock.release();
  }
}
exports.count = count;

async function main() {
  const n = Number(process.argv[2] ?? 200_000);
  const t0 = performance.now();
  const v = new Value('i', 0);
  const children = [0, 1].map(() => new Process({ target: count, args: [v, n] }));
  for (const child of children) child.start();
  for (const child of children) await child.join();
  const seconds = (performance.now() - t0) / 1000;
  if (v.value !== 2 * n) throw new Error(`counter is ${v.value}, not ${2 * n}`);
  console.log(JSON.stringify({ opsPerSecond: (2 * n) / seconds }));
}

if (isMainProcess()) void main();
