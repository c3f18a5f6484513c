// `npm test`: build, then type-check and every test layer (unit, runtime, adapter, e2e), each timed.
// A failing layer does not hide the others' results; the run fails if any step failed. A failed build stops it.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const steps = ['build', 'typecheck', 'test:unit', 'test:runtime', 'test:adapter', 'test:e2e'];
const results = [];

for (const step of steps) {
  const started = Date.now();
  console.log(`\n> npm run ${step}`);
  const r = spawnSync(npm, ['run', step], { cwd: root, stdio: 'inherit' });
  const seconds = Math.round((Date.now() - started) / 1000);
  results.push({ step, ok: r.status === 0, seconds, code: r.status ?? r.signal });
  if (step === 'build' && r.status !== 0) break; // testing a stale or partial build proves nothing
}

console.log('\nnpm test summary');
for (const { step, ok, seconds, code } of results) console.log(`  ${ok ? 'pass' : 'FAIL'}  ${step.padEnd(13)} ${String(seconds).padStart(5)} s${ok ? '' : `  (exit ${code})`}`);
const failed = results.filter((r) => !r.ok);
if (failed.length > 0 || results.length < steps.length) {
  console.log(`npm test failed: ${failed.map((r) => r.step).join(', ')}`);
  process.exit(1);
}
console.log('npm test passed');
