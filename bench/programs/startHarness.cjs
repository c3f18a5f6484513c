// Shared by bench/programs/startup.cjs and startup.ts (bench/start.bench.ts): start() → first line of
// run() and start()+join() per start method, a burst of 10 started back to back, and the two-children
// locked Value counter. argv: method count. Prints one JSON line. The targets (`mark`, `count`) come from
// the program itself, so a .ts program's children load a .ts module as a real program's do.
const { Process, Value, setStartMethod } = require('forkscope');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');

const now = () => performance.timeOrigin + performance.now();

async function measure(argv, { mark, count }) {
  const [method, countText] = argv;
  const n = Number(countText);
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-start-'));
  const out = { first: [], join: [], burst: [], counter: [] };
  if (method === 'counter') {
    for (let i = 0; i < n; i++) {
      const v = new Value('i', 0);
      const t0 = now();
      const ps = [0, 1].map(() => new Process({ target: count, args: [v, 200_000] }));
      for (const p of ps) p.start();
      for (const p of ps) await p.join();
      out.counter.push(now() - t0);
      if (v.value !== 400_000) throw new Error(`counter ${v.value}`);
    }
  } else {
    setStartMethod(method);
    for (let i = 0; i < n; i++) {
      const file = join(dir, `t${i}`);
      const p = new Process({ target: mark, args: [file] });
      const t0 = now();
      p.start();
      await p.join();
      out.join.push(now() - t0);
      out.first.push(Number(readFileSync(file, 'utf8')) - t0);
    }
    if (method !== 'thread') {
      for (let round = 0; round < 3; round++) {
        const t0 = now();
        const ps = Array.from({ length: 10 }, (_, k) => new Process({ target: mark, args: [join(dir, `b${round}-${k}`)] }));
        for (const p of ps) p.start();
        for (const p of ps) await p.join();
        out.burst.push(now() - t0);
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(out));
}

module.exports = { measure };
