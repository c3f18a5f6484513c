// Peer of the thread-mode pool: piscina's run() per task on 2 threads; prints {"tasksPerSecond": n}.
const { Piscina } = require('piscina');
const { join } = require('node:path');

async function main() {
  const count = Number(process.argv[2]);
  const pool = new Piscina({ filename: join(__dirname, 'piscina-worker.cjs'), minThreads: 2, maxThreads: 2 });
  await Promise.all([1, 2, 3, 4].map((x) => pool.run(x)));
  const t0 = performance.now();
  const out = await Promise.all(Array.from({ length: count }, (_, i) => pool.run(i)));
  const seconds = (performance.now() - t0) / 1000;
  if (out[count - 1] !== (count - 1) * (count - 1)) throw new Error('wrong result');
  await pool.destroy();
  console.log(JSON.stringify({ tasksPerSecond: count / seconds }));
}

main();
