// `npm test`: build, then type-check and every test layer (unit, runtime, adapter, e2e), each timed and under
// a hard deadline. A failing layer does not hide the others' results; a failed build stops the run.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** Minutes each step may take on a busy 2-core machine before its whole process group is killed. */
const steps = [
  ['build', 10],
  ['typecheck', 10],
  ['lint', 5],
  ['test:unit', 10],
  ['test:runtime', 40],
  ['test:conformance', 35],
  ['test:adapter', 15],
  ['test:e2e', 30],
  // Node 24 (issue 18): the runtime suites whose behaviour depends on the Node in use, where Node strips types itself
  // (the TypeScript loader, both module kinds of the docs' examples, `forkscope run` end to end, the Node-API binding,
  // the inspector hooks) and the whole adapter layer (69 cases, 70 s at load 20). The whole runtime layer
  // (`npm run test:runtime:node24`) took over 40 min at load 45, past CI's budget.
  ['test:node24', 15],
  // Node 22 (issue 18): it strips types but its V8 cannot parse `await using`, so the runtime's loader compiles there;
  // the suites that depend on who runs the TypeScript, and the adapter's TypeScript, stopOnEntry and proxy cases.
  ['test:node22', 10],
];
const results = [];
let current = null;

// Ctrl+C or CI's own timeout: end the running step's group too, not only this process.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) kill(current, 'SIGKILL');
    process.exit(130);
  });
}

function kill(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {}
}

/**
 * The spec reporter's closing "failing tests" section, without stack frames: printed again beside the summary,
 * because a CI log is often read from its tail, where a layer's first failure scrolled away long before.
 */
function failureDigest(maxLines = 20) {
  let text = '';
  return {
    feed(chunk) {
      text += chunk.toString('utf8');
      if (text.length > 4_000_000) text = text.slice(-2_000_000);
    },
    lines() {
      const at = text.lastIndexOf('failing tests:');
      if (at < 0) return [];
      const kept = text
        .slice(at)
        .split('\n')
        .map((line) => line.trimEnd())
        .filter((line) => !/^\s*$|^\s+at |^\s*[{}]\s*$|^\s+(generatedMessage|code|actual|expected|operator|failureType|cause): /.test(line));
      return kept.length > maxLines ? [...kept.slice(0, maxLines), `… ${kept.length - maxLines} more lines in the step's output above`] : kept;
    },
  };
}

function run(step, minutes) {
  return new Promise((resolve) => {
    // detached: the step leads its own process group, so a deadline can end every process it started.
    const child = spawn(npm, ['run', step], { cwd: root, stdio: ['inherit', 'pipe', 'pipe'], detached: true });
    current = child;
    const digest = failureDigest();
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      digest.feed(chunk);
    });
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\nnpm test: ${step} passed its ${minutes}-minute deadline; killing it`);
      kill(child, 'SIGTERM');
      setTimeout(() => kill(child, 'SIGKILL'), 10_000).unref();
    }, minutes * 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      current = null;
      const settle = () => resolve({ code: timedOut ? `deadline ${minutes} min` : (code ?? signal), ok: code === 0 && !timedOut, failures: digest.lines() });
      // The last output may still be in the pipe; a process the step leaked may hold it open for ever, so wait briefly.
      const grace = setTimeout(settle, 2_000);
      child.stdout.once('close', () => {
        clearTimeout(grace);
        settle();
      });
    });
  });
}

for (const [step, minutes] of steps) {
  const started = Date.now();
  console.log(`\n> npm run ${step}`);
  const { ok, code, failures } = await run(step, minutes);
  results.push({ step, ok, code, failures, seconds: Math.round((Date.now() - started) / 1000) });
  if (step === 'build' && !ok) break; // testing a stale or partial build proves nothing
}

const failed = results.filter((r) => !r.ok);
for (const { step, failures } of failed) {
  if (failures.length === 0) continue;
  console.log(`\n${step}: what failed`);
  for (const line of failures) console.log(`  ${line}`);
}
console.log('\nnpm test summary');
for (const { step, ok, seconds, code } of results)
  console.log(`  ${ok ? 'pass' : 'FAIL'}  ${step.padEnd(13)} ${String(seconds).padStart(5)} s${ok ? '' : `  (${code})`}`);
if (failed.length > 0 || results.length < steps.length) {
  console.log(`npm test failed: ${failed.map((r) => r.step).join(', ')}`);
  process.exit(1);
}
console.log('npm test passed');
