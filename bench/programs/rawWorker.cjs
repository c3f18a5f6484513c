// The floor for the "thread" start method: `new Worker` on a one-line script until its first line runs.
// argv: count. Prints {"first": [..]}.
const { Worker } = require('node:worker_threads');

async function main() {
  const first = [];
  for (let i = 0; i < Number(process.argv[2]); i++) {
    const t0 = performance.timeOrigin + performance.now();
    const w = new Worker("require('node:worker_threads').parentPort.postMessage(performance.timeOrigin + performance.now())", { eval: true });
    first.push((await new Promise((r) => w.once('message', r))) - t0);
    await w.terminate();
  }
  console.log(JSON.stringify({ first }));
}

main();
