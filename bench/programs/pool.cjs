// Measured by bench/pool.bench.ts: plain JavaScript (no loader) so the figures are the runtime's own.
// argv: mode (map: default chunksize, map1: chunksize 1, thread1: thread workers, chunksize 1; cold: a Pool of
// default size, default chunksize, timed from `new Pool()` to the end of join(), its start-up included) count.
const { Pool, isMainProcess } = require('forkscope');

function square(x) {
  return x * x;
}
exports.square = square;

async function main() {
  const [mode, countText] = process.argv.slice(2);
  const count = Number(countText);
  const xs = Array.from({ length: count }, (_, i) => i);
  if (mode === 'cold') {
    const t0 = performance.now();
    const pool = new Pool();
    const out = await pool.map(square, xs);
    pool.close();
    await pool.join();
    const seconds = (performance.now() - t0) / 1000;
    if (out[count - 1] !== (count - 1) * (count - 1)) throw new Error('wrong result');
    console.log(JSON.stringify({ tasksPerSecond: count / seconds }));
    return;
  }
  const pool = new Pool({ processes: 2, context: mode === 'thread1' ? 'thread' : 'spawn' });
  // Warm-up: workers started and the target loaded, as a long-lived pool would be.
  await pool.map(square, [1, 2, 3, 4], { chunksize: 1 });
  const t0 = performance.now();
  const out = await pool.map(square, xs, mode === 'map' ? {} : { chunksize: 1 });
  const seconds = (performance.now() - t0) / 1000;
  if (out[count - 1] !== (count - 1) * (count - 1)) throw new Error('wrong result');
  pool.close();
  await pool.join();
  console.log(JSON.stringify({ tasksPerSecond: count / seconds }));
}

if (isMainProcess()) main();
