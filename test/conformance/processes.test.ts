// CPython's _TestProcess and _TestSubclassingProcess (Lib/test/_test_multiprocessing.py), ported: each
// case keeps its CPython name in its title and runs in the start methods where CPython's mixins run it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import * as mp from 'forkscope';
import { forEachMethod, once, ALL, PROCESSES, DELTA, sleep, timed, PROMPT, it } from './support';
import * as t from './targets';

/** poll(timeout=…) in DESIGN.md's options form; the runtime's types take it once issue 15's argument forms land. */
const timedPoll = (conn: mp.Connection, timeout: number): Promise<boolean> =>
  (conn.poll as unknown as (o: { timeout: number }) => Promise<boolean>).call(conn, { timeout });

const testfn = (): string => join(tmpdir(), `forkscope-conformance-${process.pid}-${Math.random().toString(36).slice(2)}`);

forEachMethod('_TestProcess', ALL, (ctx, method) => {
  const isThread = method === 'thread';
  const notThreads = isThread ? 'CPython skips it for threads' : false;

  it('test_current (_TestProcess)', { skip: notThreads }, () => {
    const current = mp.currentProcess() as mp.Process & { authkey?: Uint8Array };
    assert.equal(current.isAlive(), true);
    assert.equal(current.daemon, false);
    assert.ok(current.authkey instanceof Uint8Array && current.authkey.length > 0, 'authkey is bytes');
    assert.equal(current.ident, process.pid);
    assert.equal(current.exitCode, null);
    assert.equal(mp.currentProcess(), current, 'the same _MainProcess every time');
  });

  it('test_set_executable (_TestProcess)', { skip: notThreads }, async () => {
    const setExecutable = (mp as unknown as { setExecutable?: (path: string) => void }).setExecutable;
    assert.equal(typeof setExecutable, 'function', 'setExecutable is exported');
    for (const path of [process.execPath]) {
      setExecutable!(path);
      const p = new ctx.Process();
      p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
    }
  });

  it('test_args_argument (_TestProcess)', { timeout: 120_000 }, async () => {
    for (const arg of [1, 'str', [1], [1, 'tuple']]) {
      const q = new ctx.Queue({ maxsize: 1 });
      const p = new ctx.Process({ target: t.putArg, args: [q, arg], daemon: true });
      p.start();
      assert.deepEqual(await q.get(), arg);
      await p.join();
      q.close();
    }
  });

  it('test_daemon_argument (_TestProcess)', { skip: notThreads }, () => {
    const proc0 = new ctx.Process({ target: t.noop });
    assert.equal(proc0.daemon, (mp.currentProcess() as mp.Process).daemon);
    assert.equal(new ctx.Process({ target: t.noop, daemon: true }).daemon, true);
    assert.equal(new ctx.Process({ target: t.noop, daemon: false }).daemon, false);
  });

  it('test_parent_process_attributes (_TestProcess)', { skip: notThreads }, async () => {
    assert.equal(mp.parentProcess(), null);
    const [rconn, wconn] = mp.Pipe({ duplex: false });
    const p = new ctx.Process({ target: t.sendParentProcess, args: [wconn] });
    p.start();
    await p.join();
    const [parentPid, parentName] = await rconn.recv<[number, string]>();
    assert.equal(parentPid, mp.currentProcess().pid);
    assert.equal(parentPid, process.pid);
    assert.equal(parentName, mp.currentProcess().name);
  });

  it('test_parent_process (_TestProcess)', {
    skip:
      notThreads ||
      'deviates on purpose: a child ends when its parent does (its IPC channel closes; no orphans, RELIABILITY.md), so the grandchild cannot report its parent dead',
    timeout: 40_000,
  }, async () => {
    const [rconn, wconn] = mp.Pipe({ duplex: false });
    const p = new ctx.Process({ target: t.createGrandchildProcess, args: [wconn, method] });
    p.start();
    assert.ok(await timedPoll(rconn, 15_000), 'Could not communicate with child process');
    assert.equal(await rconn.recv(), 'alive');
    p.terminate();
    await p.join();
    assert.ok(await timedPoll(rconn, 15_000), 'Could not communicate with child process');
    assert.equal(await rconn.recv(), 'not alive');
  });

  it('test_process (_TestProcess)', async () => {
    const q = new ctx.Queue({ maxsize: 1 });
    const args = [q, 1, 2];
    const kwargs = { hello: 23, bye: 2.54 };
    const p = new ctx.Process({ target: t.reportArgs, args, kwargs, name: 'SomeProcess' });
    p.daemon = true;
    assert.equal(p.isAlive(), false);
    assert.equal(p.daemon, true);
    assert.ok(!mp.activeChildren().includes(p));
    assert.ok(Array.isArray(mp.activeChildren()));
    assert.equal(p.exitCode, null);
    p.start();
    assert.equal(p.exitCode, null);
    assert.equal(p.isAlive(), true);
    assert.ok(mp.activeChildren().includes(p));
    assert.deepEqual(await q.get(), args.slice(1));
    assert.deepEqual(await q.get(), kwargs);
    assert.equal(await q.get(), p.name);
    if (!isThread) assert.equal(await q.get(), p.pid);
    else await q.get();
    await p.join();
    assert.equal(p.exitCode, 0);
    assert.equal(p.isAlive(), false);
    assert.ok(!mp.activeChildren().includes(p));
    q.close();
  });

  for (const [name, meth, code] of [
    ['test_terminate', 'terminate', -15],
    ['test_kill', 'kill', -9],
  ] as const) {
    it(`${name} (_TestProcess)`, { skip: notThreads, timeout: 120_000 }, async () => {
      const p = new ctx.Process({ target: t.sleepSome, daemon: true });
      p.start();
      assert.equal(p.isAlive(), true);
      assert.ok(mp.activeChildren().includes(p));
      assert.equal(p.exitCode, null);
      let j = await timed(() => p.join({ timeout: 0 }));
      assert.equal(j.value, undefined);
      assert.ok(j.elapsed < PROMPT);
      assert.equal(p.isAlive(), true);
      j = await timed(() => p.join({ timeout: -1 }));
      assert.equal(j.value, undefined);
      assert.ok(j.elapsed < PROMPT);
      assert.equal(p.isAlive(), true);
      await sleep(1000);
      p[meth]();
      j = await timed(() => p.join({ timeout: 10_000 }));
      assert.ok(j.elapsed < 10_000, 'join took too long');
      assert.equal(p.isAlive(), false);
      assert.ok(!mp.activeChildren().includes(p));
      await p.join();
      assert.equal(p.exitCode, code);
    });
  }

  it('test_cpu_count (_TestProcess)', () => {
    const cpus = mp.cpuCount();
    assert.ok(Number.isInteger(cpus));
    assert.ok(cpus >= 1);
  });

  it('test_active_children (_TestProcess)', async () => {
    assert.ok(Array.isArray(mp.activeChildren()));
    const p = new ctx.Process({ target: t.nap, args: [DELTA] });
    assert.ok(!mp.activeChildren().includes(p));
    p.daemon = true;
    p.start();
    assert.ok(mp.activeChildren().includes(p));
    await p.join();
    assert.ok(!mp.activeChildren().includes(p));
  });

  it('test_recursion (_TestProcess)', { timeout: 120_000 }, async () => {
    const [rconn, wconn] = mp.Pipe({ duplex: false });
    await t.recursion(wconn, [], method);
    await sleep(DELTA);
    const result: unknown[] = [];
    while (await rconn.poll()) result.push(await rconn.recv());
    assert.deepEqual(result, [[], [0], [0, 0], [0, 1], [1], [1, 0], [1, 1]]);
  });

  it('test_sentinel (_TestProcess)', { skip: notThreads }, async () => {
    const event = new ctx.Event();
    const p = new ctx.Process({ target: t.waitEvent, args: [event] });
    assert.throws(() => p.sentinel, { name: 'ValueError' });
    p.start();
    const sentinel = p.sentinel;
    assert.ok(sentinel instanceof Promise);
    const settledWithin = (ms: number) => Promise.race([sentinel.then(() => true), sleep(ms).then(() => false)]);
    assert.equal(await settledWithin(0), false);
    event.set();
    await p.join();
    assert.equal(await settledWithin(1000), true);
  });

  it('test_close (_TestProcess)', { skip: notThreads }, async () => {
    const q = new ctx.Queue();
    const p = new ctx.Process({ target: t.closeTarget, kwargs: { q } });
    p.daemon = true;
    p.start();
    assert.equal(p.isAlive(), true);
    assert.throws(() => p.close(), { name: 'ValueError' });
    await q.put(null);
    await p.join();
    assert.equal(p.isAlive(), false);
    assert.equal(p.exitCode, 0);
    p.close();
    assert.throws(() => p.isAlive(), { name: 'ValueError' });
    await assert.rejects(async () => p.join(), { name: 'ValueError' });
    assert.throws(() => p.terminate(), { name: 'ValueError' });
    p.close();
    q.close();
  });

  it('test_many_processes (_TestProcess)', { skip: notThreads, timeout: 120_000 }, async () => {
    // CPython starts 100 under forkserver; 20 here keep a shared 2-core machine's memory in bounds.
    const n = method === 'spawn' ? 5 : 20;
    let procs = Array.from({ length: n }, () => new ctx.Process({ target: t.nap, args: [10] }));
    for (const p of procs) p.start();
    for (const p of procs) await p.join();
    for (const p of procs) assert.equal(p.exitCode, 0);
    procs = Array.from({ length: n }, () => new ctx.Process({ target: t.sleepSome }));
    for (const p of procs) p.start();
    await sleep(1);
    for (const p of procs) p.terminate();
    for (const p of procs) await p.join();
    for (const p of procs) assert.equal(p.exitCode, -15);
  });

  it('test_child_fd_inflation (_TestProcess)', { skip: notThreads, timeout: 120_000 }, async () => {
    const n = 5;
    const evt = new ctx.Event();
    const q = new ctx.Queue<number>();
    const procs = Array.from({ length: n }, () => new ctx.Process({ target: t.childFdCount, args: [evt, q] }));
    for (const p of procs) p.start();
    try {
      const counts: number[] = [];
      for (let i = 0; i < n; i++) counts.push(await q.get());
      assert.equal(new Set(counts).size, 1, String(counts));
    } finally {
      evt.set();
      for (const p of procs) await p.join();
      q.close();
    }
  });

  it('test_wait_for_threads (_TestProcess)', {
    skip: 'deviates on purpose: a child exits when run() settles (DESIGN.md); Node has no non-daemon thread to wait for',
  }, () => {});

  for (const [name, signal] of [
    ['test_forkserver_sigint', 'SIGINT'],
    ['test_forkserver_sigkill', 'SIGKILL'],
  ] as const) {
    it(`${name} (_TestProcess)`, {
      skip:
        method !== 'forkserver'
          ? 'CPython runs it only under forkserver'
          : 'deviates on purpose: Node cannot fork, so there is no forkserver process to signal; "forkserver" starts from warm standby children, one per start (runtime/src/forkserver.ts)',
      timeout: 120_000,
    }, async () => {
      const delay = 500;
      const evt = new ctx.Event();
      const proc = new ctx.Process({ target: t.setAfter, args: [evt, delay] });
      proc.start();
      const server = forkserverPid();
      assert.ok(server, 'the forkserver process is running');
      process.kill(server, signal);
      await sleep(delay * 2);
      const evt2 = new ctx.Event();
      const proc2 = new ctx.Process({ target: t.setAfter, args: [evt2, 0] });
      proc2.start();
      await proc2.join();
      assert.equal(evt2.isSet(), true);
      assert.equal(proc2.exitCode, 0);
      await proc.join();
      assert.equal(evt.isSet(), true);
      assert.ok([0, 255].includes(proc.exitCode!), `exit code ${proc.exitCode}`);
    });
  }
});

/** The pid of this process's forkserver child (found by its command line). */
function forkserverPid(): number | undefined {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m && /forkserver/i.test(m[2]!)) return Number(m[1]);
  }
  return undefined;
}

forEachMethod('_TestSubclassingProcess', PROCESSES, (ctx, method) => {
  it('test_subclassing (_TestSubclassingProcess)', { timeout: 60_000 }, async () => {
    const uppercaser = new t.UpperCaser(method);
    uppercaser.daemon = true;
    uppercaser.start();
    assert.equal(await uppercaser.submit('hello'), 'HELLO');
    assert.equal(await uppercaser.submit('world'), 'WORLD');
    await uppercaser.stop();
    await uppercaser.join();
  });

  it('test_stderr_flush (_TestSubclassingProcess)', async () => {
    const file = testfn();
    try {
      const proc = new ctx.Process({ target: t.stderrToFileThenFail, args: [file] });
      proc.start();
      await proc.join();
      const err = readFileSync(file, 'utf8');
      assert.match(err, /RangeError/);
      assert.match(err, /targets\.ts/);
      assert.match(err, /1\/0 # MARKER/);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('test_sys_exit (_TestSubclassingProcess)', { timeout: 120_000 }, async () => {
    const file = testfn();
    for (const reason of [[1, 2, 3], 'ignore this']) {
      const p = new ctx.Process({ target: t.stderrToFileThenExit, args: [reason, file], daemon: true });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 1);
      assert.ok(existsSync(file));
      assert.match(readFileSync(file, 'utf8'), new RegExp(String(reason).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      rmSync(file, { force: true });
    }
    for (const [args, expected] of [
      [[1], 1],
      [[0], 0],
      [[8], 8],
      [[undefined], 0],
      [[], 0],
    ] as const) {
      const p = new ctx.Process({ target: t.exitWith, args: [...args], daemon: true });
      p.start();
      await p.join();
      assert.equal(p.exitCode, expected, `exit(${args.join(',')})`);
    }
  });
});

once('Found by this port', () => {
  it('join() of a daemon child keeps the program alive (daemon join, _TestProcess.test_process)', { timeout: 120_000 }, () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'daemonJoin.ts')], { encoding: 'utf8', timeout: 110_000 });
    assert.equal(r.stdout.trim(), 'joined 0');
  });
});
