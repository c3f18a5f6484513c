// The seed twins in examples/ that use Process, Pool and ProcessPoolExecutor: run as users run them, output
// checked against the seed's. Also the unguarded-main bootstrapping error and the lifeline of orphans.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { REPO_ROOT as root, leftBehindIn, runProgram } from './runProgram';
import { isAlive as alive, waitUntil as until } from './waiting';

const run = (file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) => runProgram(file, { args, env });

describe('examples (Process, Pool, executor)', { timeout: 300_000 }, () => {
  it('fork.ts: parent and child each know their own pid list', async () => {
    const { code, stdout } = await run('examples/fork.ts');
    assert.equal(code, 0);
    const parent = /parent:The PID number I know is\[(\d+),(\d+)\]/.exec(stdout);
    const child = /Child:The PID number I know is\[(\d+),(\d+)\]/.exec(stdout);
    const childPid = /parent:The PID number of the child process is(\d+)/.exec(stdout);
    assert.ok(parent && child && childPid, stdout);
    assert.equal(parent[1], parent[2]);
    assert.equal(child[1], parent[1]);
    assert.equal(child[2], childPid[1]);
    assert.notEqual(child[2], parent[1]);
  });

  it('geocoding.ts: Pool(4).map prints every place in order', async () => {
    const { code, stdout } = await run('examples/geocoding.ts');
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 10);
    assert.equal(lines[0], 'Reykjavík, Iceland,  64.15, -21.94');
    assert.equal(lines[9], 'Osaka, Japan,  34.69, 135.50');
  });

  it('two_processes.ts and process_start.ts print their hellos', async () => {
    const two = await run('examples/two_processes.ts');
    assert.equal(two.code, 0);
    assert.deepEqual(two.stdout.trim().split('\n').sort(), ['hello bob', 'hello jerry']);
    const start = await run('examples/process_start.ts');
    assert.equal(start.code, 0);
    assert.equal(start.stdout, 'hello\n');
  });

  it('pool_map.ts prints [1, 4, 9]', async () => {
    const { code, stdout } = await run('examples/pool_map.ts');
    assert.equal(code, 0);
    assert.equal(stdout, '[1, 4, 9]\n');
  });

  it('start_join.ts: two sleeps side by side take about one', async () => {
    const { code, stdout } = await run('examples/start_join.ts', [], { FORKSCOPE_EXAMPLE_SLEEP: '2' });
    assert.equal(code, 0);
    assert.equal(stdout.match(/Sleeping for 2 seconds/g)?.length, 2);
    assert.equal(stdout.match(/Finished sleeping: 2/g)?.length, 2);
    // Side by side: both started sleeping before either finished (a timing-free proof of overlap).
    const lines = stdout.split('\n');
    const lastStart = lines.lastIndexOf('Sleeping for 2 seconds');
    const firstEnd = lines.indexOf('Finished sleeping: 2');
    assert.ok(lastStart < firstEnd, stdout);
    const seconds = Number(/Program finished in ([\d.]+) seconds/.exec(stdout)?.[1]);
    assert.ok(seconds >= 2, `took ${seconds} s`);
  });

  it('pool_square.ts: squares, then every work item waits and finishes', async () => {
    const { code, stdout } = await run('examples/pool_square.ts', [], { FORKSCOPE_EXAMPLE_SCALE: '0.5' });
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n');
    assert.equal(lines[0], '[9, 16, 25, 36, 36, 49, 7569, 64, 64]');
    for (const w of ['A', 'B', 'C', 'D']) {
      assert.ok(lines.includes(` Process ${w} Finished.`), stdout);
      assert.ok(
        lines.some((l) => l.startsWith(` Process ${w} waiting`)),
        stdout,
      );
    }
    for (const w of ['A', 'B', 'C', 'D']) {
      assert.ok(lines.findIndex((l) => l.startsWith(` Process ${w} waiting`)) < lines.indexOf(` Process ${w} Finished.`));
    }
  });

  it("is_prime.ts prints the seed's six lines", async () => {
    const { code, stdout } = await run('examples/is_prime.ts');
    assert.equal(code, 0);
    assert.equal(
      stdout,
      [
        '112272535095293 is prime: True',
        '112582705942171 is prime: True',
        '112272535095293 is prime: True',
        '115280095190773 is prime: True',
        '115797848077099 is prime: True',
        '1099726899285419 is prime: False',
        '',
      ].join('\n'),
    );
  });

  it("ppid.ts: the child sees the parent's pid as its ppid", async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples/ppid.ts')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 0);
    assert.equal(Number(/parent proecss : (\d+)/.exec(stdout)?.[1]), child.pid);
    assert.match(stdout, /process : \d+\nhello, bob\n/);
  });

  it('executor_future.ts: submit, result and asCompleted', async () => {
    const { code, stdout } = await run('examples/executor_future.ts');
    assert.equal(code, 0);
    assert.equal(stdout, 'done right after submit: false\nresult: 27\nas completed: 1, 8, 27\n');
  });

  it("context_queue.ts: setStartMethod and getContext('spawn') each get hello through a Queue", async () => {
    const { code, stdout } = await run('examples/context_queue.ts');
    assert.equal(code, 0);
    assert.equal(stdout, 'hello\nhello\n');
  });

  it("an unguarded main module gets Python's bootstrapping RuntimeError, not a fork bomb", async () => {
    const { code, stdout, stderr } = await run('test/fixtures/runtime-unguarded.ts');
    assert.equal(code, 0);
    assert.match(stderr, /RuntimeError: An attempt has been made to start a new process before the current process has finished its bootstrapping phase/);
    assert.match(stdout, /child exit 1/);
    assert.doesNotMatch(stdout, /hello/);
  });

  it('children exit by themselves when their parent is killed (lifeline)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/runtime-lifeline.ts')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    assert.ok(await until(() => stdout.includes('}'), 30_000), 'the fixture printed its children');
    const pids = JSON.parse(stdout.trim().split('\n')[0]) as { child: number; daemon: number };
    child.kill('SIGKILL');
    const gone = await until(() => !alive(pids.child) && !alive(pids.daemon), 10_000);
    for (const pid of [pids.child, pids.daemon]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    assert.ok(gone, 'orphans exited');
  });

  it('a root killed with SIGKILL leaves no forkscope socket directory in TMPDIR', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'fs-leftover-'));
    // The compile caches (forkscope-ts-<uid>, forkscope-v8-<uid>) are meant to outlive the program; socket directories are not.
    const forkscopeDirs = () => leftBehindIn(tmp);
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/leftover-socket-dir.ts')], {
      cwd: root,
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    try {
      assert.ok(await until(() => stdout.includes('}'), 30_000), 'the fixture printed its child');
      const { child: pid } = JSON.parse(stdout.trim().split('\n')[0]!) as { child: number };
      assert.notDeepEqual(forkscopeDirs(), [], 'the program made its socket directory in TMPDIR');
      child.kill('SIGKILL');
      const clean = await until(() => forkscopeDirs().length === 0 && !alive(pid), 10_000);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      assert.ok(clean, `left behind: ${forkscopeDirs().join(', ')}`);
    } finally {
      child.kill('SIGKILL');
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a root killed with SIGKILL leaves no shared-memory queue directory', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/leftover-queue-dir.ts')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    try {
      assert.ok(await until(() => stdout.includes('}'), 30_000), 'the fixture printed its child');
      const { child: pid, dir } = JSON.parse(stdout.trim().split('\n')[0]!) as { child: number; dir: string | null };
      if (dir === null) return; // no binding: the creator holds the items, there is no directory to leave
      assert.ok(existsSync(dir), 'the program made its queue directory');
      child.kill('SIGKILL');
      const clean = await until(() => !existsSync(dir) && !alive(pid), 10_000);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      assert.ok(clean, `left behind: ${dir}`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a normal exit terminates daemonic children', async () => {
    const { code, stdout } = await run('test/fixtures/runtime-lifeline.ts', ['exit']);
    assert.equal(code, 0);
    const pids = JSON.parse(stdout.trim().split('\n')[0]) as { child: number; daemon: number };
    assert.match(stdout, /main done/);
    const gone = await until(() => !alive(pids.daemon), 5_000);
    if (!gone) process.kill(pids.daemon, 'SIGKILL');
    assert.ok(gone, 'the daemonic child was terminated at exit');
  });
});
