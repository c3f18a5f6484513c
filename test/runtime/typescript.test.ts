// TypeScript with nothing but forkscope installed: `forkscope run app.ts` in a temp project outside the
// repository (no tsx reachable), as CommonJS and as an ES module package, every start method running
// the .ts target; the compile cache hit by every child; source-mapped stacks; SIGINT passed on. Build first.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeNodeTypeScript } from '../../runtime/src/protocol';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'runtime', 'bin', 'forkscope.js');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'ts-project');
const THROW_LINE =
  readFileSync(join(FIXTURE, 'app.ts'), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes('THROW-LINE')) + 1;

// Node runs the program's TypeScript itself (Node 24; Node 22 strips types but cannot parse `await using`).
const NODE_STRIPS_TYPES = probeNodeTypeScript().stripsTypes;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** How many times esbuild's binary ran, in every process and thread of the run. */
  transforms: number;
}

let scratch: string;
let esbuildLog: string;
let esbuildWrapper: string;

/** A project of `kind` with forkscope (the built runtime) in node_modules and nothing else. */
function project(kind: 'cjs' | 'esm'): string {
  const dir = join(scratch, kind);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(join(ROOT, 'runtime'), join(dir, 'node_modules', 'forkscope'), 'dir');
  cpSync(FIXTURE, dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `ts-${kind}`, private: true, ...(kind === 'esm' ? { type: 'module' } : {}) }));
  return dir;
}

function run(
  cwd: string,
  args: string[],
  cache: string,
  { ms = 120_000, onStdout }: { ms?: number; onStdout?: (text: string, pid: number) => void } = {},
): Promise<Run> {
  writeFileSync(esbuildLog, '');
  const child = spawn(process.execPath, [CLI, 'run', '--quiet', ...args], {
    cwd,
    // NODE_OPTIONS cleared: the test runner's own tsx must not reach the program.
    env: { ...process.env, NODE_OPTIONS: '', FORKSCOPE_TS_CACHE: cache, ESBUILD_BINARY_PATH: esbuildWrapper },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    onStdout?.(stdout, child.pid!);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`forkscope run ${args.join(' ')} hung:\n${stdout}\n${stderr}`));
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const transforms = readFileSync(esbuildLog, 'utf8')
        .split('\n')
        .filter((l) => l.includes('--service')).length;
      resolve({ code, stdout, stderr, transforms });
    });
  });
}

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'forkscope-ts-'));
  esbuildLog = join(scratch, 'esbuild.log');
  // esbuild's binary behind a wrapper that notes each run: a child that starts a transpiler shows here.
  const real = require.resolve(`@esbuild/${process.platform}-${process.arch}/bin/esbuild`);
  esbuildWrapper = join(scratch, 'esbuild');
  writeFileSync(esbuildWrapper, `#!/bin/sh\necho "$$ $*" >> '${esbuildLog}'\nexec '${real}' "$@"\n`);
  chmodSync(esbuildWrapper, 0o755);
});

after(() => rmSync(scratch, { recursive: true, force: true }));

describe('forkscope run with a TypeScript program and no tsx', () => {
  for (const kind of ['cjs', 'esm'] as const) {
    it(`runs a ${kind === 'cjs' ? 'CommonJS' : 'ES module'} package's .ts (an enum, parameter properties) in the main process, a spawned child, a worker thread and a forkserver child`, async () => {
      const dir = project(kind);
      assert.equal(existsSync(join(dir, 'node_modules', 'tsx')), false);
      const cache = join(scratch, `cache-${kind}`);
      const first = await run(dir, ['app.ts'], cache);
      assert.equal(first.code, 0, first.stderr);
      for (const line of [
        'main: MainProcess green 7',
        'spawn: Process-1 green 7',
        'thread: Process-2 green 7',
        'forkserver: Process-3 green 7',
        'spawn exit 0',
        'thread exit 0',
        'forkserver exit 0',
      ]) {
        assert.ok(first.stdout.includes(line), `${line} in:\n${first.stdout}\n${first.stderr}`);
      }
      if (NODE_STRIPS_TYPES) assert.equal(first.transforms, 0, 'a Node that strips types runs the program itself');
      // Two .ts files: each compiled once, by the first process that needed it; no child compiled again.
      else assert.ok(first.transforms >= 1 && first.transforms <= 2, `${first.transforms} transforms for 2 files (a fresh cache)`);
      const second = await run(dir, ['app.ts'], cache);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.transforms, 0, 'a run on a warm cache starts no transpiler in any process');
    });
  }

  it("maps a child's stack trace to the .ts line that threw", async () => {
    const dir = join(scratch, 'cjs');
    const { code, stderr } = await run(dir, ['app.ts', '--fail'], join(scratch, 'cache-cjs'));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /Error: boom \(failing in Process-4\)/);
    assert.ok(stderr.includes(`app.ts:${THROW_LINE}:`), `app.ts:${THROW_LINE} in:\n${stderr}`);
  });
});

describe('forkscope run and signals', () => {
  it('passes a SIGINT sent to its own pid on to the program', async () => {
    let sent = false;
    const { code, stdout } = await run(join(ROOT, 'test', 'fixtures'), ['cli-sigint.js'], join(scratch, 'cache-signal'), {
      onStdout: (text, pid) => {
        if (sent || !text.includes('ready')) return;
        sent = true;
        process.kill(pid, 'SIGINT');
      },
    });
    assert.ok(stdout.includes('got SIGINT'), stdout);
    assert.equal(code, 0);
  });
});
