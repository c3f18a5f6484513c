// Measured by bench/start.bench.ts: start() → first line of run(), per start method, in plain JavaScript.
// argv: method count; prints {"ms": [..]}: each the time from before start() to the target's first line.
const { Process, isMainProcess, setStartMethod } = require('forkscope');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');

function mark(file) {
  writeFileSync(file, String(performance.timeOrigin + performance.now()));
}
exports.mark = mark;

async function main() {
  const [method, countText] = process.argv.slice(2);
  const count = Number(countText);
  if (method === 'forkserver') setStartMethod('forkserver');
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-start-'));
  const ms = [];
  for (let i = 0; i < count; i++) {
    // Between starts the forkserver warms its next standby, as it would between a program's starts.
    if (method === 'forkserver') await new Promise((r) => setTimeout(r, 400));
    const file = join(dir, `t${i}`);
    const p = new Process({ target: mark, args: [file], startMethod: method });
    const t0 = performance.timeOrigin + performance.now();
    p.start();
    await p.join();
    ms.push(Number(readFileSync(file, 'utf8')) - t0);
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ ms }));
}

if (isMainProcess()) main();
