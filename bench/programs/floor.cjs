// The floor for bench/start.bench.ts: a bare `node -e` whose first line writes the time, measured from
// before spawn() as start.cjs measures start(). argv: count [module to require first]. Prints {"ms": [..]}.
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');

async function main() {
  const [countText, preload] = process.argv.slice(2);
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-floor-'));
  const ms = [];
  for (let i = 0; i < Number(countText); i++) {
    const file = join(dir, `t${i}`);
    const code = `${preload ? `require(${JSON.stringify(preload)});` : ''}require('fs').writeFileSync(${JSON.stringify(file)}, String(performance.timeOrigin + performance.now()))`;
    const t0 = performance.timeOrigin + performance.now();
    const child = spawn(process.execPath, ['-e', code], { stdio: 'inherit' });
    await new Promise((r) => child.on('exit', r));
    ms.push(Number(readFileSync(file, 'utf8')) - t0);
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ ms }));
}

main();
