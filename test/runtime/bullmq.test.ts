// The bullmq backend with the real thing: redis-server on loopback, `forkscope worker` processes (the built CLI,
// each its own process group standing for a host), the caller's Pool, executor and queues in this process.
// Layer: runtime (`npm run test:runtime`). Build first (`npm run build`); needs redis-server (scripts/e2e-env.mjs).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getContext, AuthenticationError, WorkerDiedError, ConnectionError, Pool } from '../../runtime/src/index';
import { square, add, whereAmI, slowSquare, failWith, InventoryError, doubler, countedSlow, roundTrip } from '../fixtures/bullmq-tasks';
import { backendFor } from '../../runtime/src/bullmq/context';
import { guardSeen } from '../fixtures/bullmq-main-guard';
import { startRedis, startWorker, type Redis, type Worker } from './bullmqCluster';
import { Hub } from '../../hub/hub';
import { TraceRecorder } from '../../hub/traceRecorder';
import { renderTree } from '../../hub/treeView';
import { runProgram } from './runProgram';
import { spawn } from 'node:child_process';
import { CLI, ROOT } from './bullmqCluster';
import { openDebugRelay } from '../../runtime/src/bullmq/debugRelay';

// chrome-remote-interface ships no types; the one call used here is typed at this seam.
const CDP = require('chrome-remote-interface') as (options: { target: string; local?: boolean }) => Promise<{
  send(method: string, params?: object): Promise<{ result: { value: unknown } }>;
  on(event: string, listener: (params: { callFrames: Array<{ functionName: string }> }) => void): void;
  close(): Promise<void>;
}>;

let prefixes = 0;
/** A context of its own per test: its own prefix, so no test sees another's jobs or workers. */
function context(redis: Redis, extra: { unreachableTimeout?: number } = {}) {
  const prefix = `t${process.pid}x${++prefixes}`;
  return { prefix, ctx: getContext('bullmq', { connection: redis.url, prefix, ...extra }) };
}

async function stopAll(workers: Worker[]): Promise<void> {
  for (const w of workers) w.signal('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
}

describe('bullmq backend', { timeout: 110_000 }, () => {
  let redis: Redis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.dispose();
  });

  it('Pool, executor and queues keep their API on a cluster of two workers', async () => {
    const { prefix, ctx } = context(redis);
    const workers = [
      await startWorker(redis.url, 'hostA', ['--prefix', prefix, '--concurrency', '2']),
      await startWorker(redis.url, 'hostB', ['--prefix', prefix, '--concurrency', '2']),
    ];
    try {
      for (const w of workers) assert.match(w.output(), new RegExp(`host ${w.name}, pid ${w.child.pid}, capacity 2, serving forkscope@0\\.1\\.0`));
      const pool = new ctx.Pool({ processes: 4 });
      assert.deepEqual(await pool.map(square, [1, 2, 3, 4, 5, 6, 7, 8]), [1, 4, 9, 16, 25, 36, 49, 64]);
      assert.deepEqual(
        await pool.map(
          square,
          Array.from({ length: 100 }, (_, i) => i),
          { chunksize: 7 },
        ),
        Array.from({ length: 100 }, (_, i) => i * i),
      );
      assert.deepEqual(
        await pool.starmap(add, [
          [1, 2],
          [3, 4],
        ]),
        [3, 7],
      );
      assert.equal(await pool.apply(add, [20, 22]), 42);
      let called = 0;
      const r = pool.applyAsync(square, [9], { callback: () => called++ });
      assert.equal(await r.get({ timeout: 20_000 }), 81);
      assert.equal(r.successful(), true);
      assert.equal(called, 1);
      const ordered: number[] = [];
      for await (const v of pool.imap(square, [3, 1, 2])) ordered.push(v);
      assert.deepEqual(ordered, [9, 1, 4]);
      const unordered: number[] = [];
      for await (const v of pool.imapUnordered(square, [3, 1, 2])) unordered.push(v);
      assert.deepEqual(unordered.sort(), [1, 4, 9]);
      // Values cross as between local processes: Map, Set, Date, BigInt, undefined.
      const value = { m: new Map([[1, 'a']]), s: new Set([2]), d: new Date(5), b: 10n, u: undefined };
      assert.deepEqual(await pool.apply(roundTrip, [value]), value);
      // Importing a program's module for its target does not start the program on the worker.
      assert.deepEqual(await pool.apply(guardSeen, []), { isMain: false, mainRan: false });
      // Both "hosts" take work: 4 in flight, 2 per host, and each task lasts 100 ms, so one host cannot take them all
      // (an instant task let hostA finish all 24 before hostB's blocking read woke, at load 25).
      const hosts = new Set(
        (
          await pool.starmap(
            slowSquare,
            Array.from({ length: 24 }, (_, i) => [i, 100] as [number, number]),
            { chunksize: 1 },
          )
        ).map((w) => w.host),
      );
      assert.deepEqual([...hosts].sort(), ['hostA', 'hostB']);

      await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
      const future = executor.submit(add, 5, 6);
      assert.equal(await future.result(), 11);
      assert.equal(future.done(), true);
      assert.deepEqual(await executor.map(add, [1, 2], [10, 20]), [11, 22]);

      const input = new ctx.JoinableQueue<number>();
      const output = new ctx.Queue<number>();
      const consumed = pool.applyAsync(doubler, [input, output, 3]);
      for (const v of [1, 2, 3]) await input.put(v);
      await input.join();
      assert.deepEqual([await output.get(), await output.get(), await output.get()], [2, 4, 6]);
      assert.equal(await consumed, 3);
      await assert.rejects(output.get({ timeout: 50 }), { name: 'Empty' });
      const bounded = new ctx.Queue<number>({ maxsize: 1 });
      await bounded.put(1);
      assert.equal(bounded.full(), true);
      await assert.rejects(bounded.put(2, { timeout: 50 }), { name: 'Full' });
      pool.close();
      await pool.join();
    } finally {
      await stopAll(workers);
    }
  });

  it('an error comes back with its class, name, message, remote stack and host; a missing target names module, export and worker', async () => {
    const { prefix, ctx } = context(redis);
    const workers = [await startWorker(redis.url, 'hostA', ['--prefix', prefix])];
    const dir = mkdtempSync(join(tmpdir(), 'forkscope-elsewhere-'));
    try {
      await using pool = new ctx.Pool({ processes: 2 });
      const error = await pool.apply(failWith, ['out of stock']).then(
        () => assert.fail('should reject'),
        (e: unknown) => e as InventoryError & { host: string; worker: string; pid: number },
      );
      assert.ok(error instanceof InventoryError);
      assert.equal(error.name, 'InventoryError');
      assert.equal(error.message, 'out of stock');
      assert.equal(error.host, 'hostA');
      assert.equal(error.worker, 'hostA');
      assert.equal(error.pid, workers[0]!.child.pid);
      assert.match(error.stack!, /at failWith .*bullmq-tasks\.ts/);

      // A module this program has but the worker's deployment does not.
      const module = join(dir, 'onlyHere.ts');
      writeFileSync(module, 'export function onlyHere(x: number): number {\n  return x + 1;\n}\n');
      const { onlyHere } = (await import(module)) as { onlyHere: (x: number) => number };
      await assert.rejects(pool.apply(onlyHere, [1]), (e: Error) => {
        assert.equal(e.name, 'PicklingError', `${e.name}: ${e.message}`);
        assert.match(
          e.message,
          new RegExp(`module ${module.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(export onlyHere\\) is not in the deployment of worker hostA on host hostA`),
        );
        return true;
      });
      // A closure fails at the call, as locally.
      assert.throws(() => pool.apply((x: number) => x, [1]), { name: 'PicklingError' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await stopAll(workers);
    }
  });

  it('Pool({ processes }) keeps at most N tasks in flight', async () => {
    const { prefix, ctx } = context(redis);
    const workers = [await startWorker(redis.url, 'hostA', ['--prefix', prefix, '--concurrency', '8'])];
    try {
      await using pool = new ctx.Pool({ processes: 2 });
      const started = Date.now();
      await pool.starmap(
        slowSquare,
        [1, 2, 3, 4].map((x) => [x, 400] as [number, number]),
        { chunksize: 1 },
      );
      // Four 400 ms tasks, two at a time, on a worker that could run eight: at least two rounds.
      assert.ok(Date.now() - started >= 800, `took ${Date.now() - started} ms`);
    } finally {
      await stopAll(workers);
    }
  });

  it('forkscope worker finishes the task in hand on SIGTERM and exits 0', async () => {
    const { prefix, ctx } = context(redis);
    const worker = await startWorker(redis.url, 'hostA', ['--prefix', prefix]);
    await using pool = new ctx.Pool({ processes: 1 });
    const result = pool.starmap(slowSquare, [[7, 1500]]);
    // Wait until the worker has the job.
    const queue = await backendFor({ connection: redis.url, prefix }).queue();
    for (let i = 0; i < 200 && (await queue.getActiveCount()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
    worker.signal('SIGTERM');
    assert.deepEqual(
      (await result).map((r) => r.x),
      [49],
    );
    const exit = await worker.exited;
    assert.equal(exit.code, 0, worker.output());
    assert.match(worker.output(), /SIGTERM, finishing the tasks in hand/);
  });

  it('kill -9 of a worker mid-task: the job runs again on the other host and the call settles once', async () => {
    const { prefix, ctx } = context(redis);
    const flags = ['--prefix', prefix, '--lock-duration', '2000', '--stalled-interval', '1000'];
    const workers = [await startWorker(redis.url, 'hostA', flags), await startWorker(redis.url, 'hostB', flags)];
    const log = join(redis.dir, `runs-${prefix}.txt`);
    writeFileSync(log, '');
    try {
      await using pool = new ctx.Pool({ processes: 1 });
      let callbacks = 0;
      const call = pool.applyAsync(countedSlow, [log, 1, 4000], { callback: () => callbacks++ });
      for (let i = 0; i < 400 && readFileSync(log, 'utf8') === ''; i++) await new Promise((r) => setTimeout(r, 25));
      const first = readFileSync(log, 'utf8').split(' ')[1];
      const killed = workers.find((w) => w.name === first)!;
      const survivor = workers.find((w) => w !== killed)!;
      const killedAt = Date.now();
      killed.signal('SIGKILL');
      assert.equal(await call.get({ timeout: 30_000 }), 10);
      assert.ok(Date.now() - killedAt < 30_000);
      const runs = readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[1]);
      assert.deepEqual(runs, [killed.name, survivor.name]);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(callbacks, 1);
    } finally {
      await stopAll(workers);
    }
  });

  it('a job that stalls more often than allowed fails the call clearly instead of hanging', async () => {
    const { prefix, ctx } = context(redis);
    const flags = ['--prefix', prefix, '--lock-duration', '1500', '--stalled-interval', '1000', '--max-stalled', '0'];
    const a = await startWorker(redis.url, 'hostA', flags);
    const b = await startWorker(redis.url, 'hostB', flags);
    try {
      await using pool = new ctx.Pool({ processes: 1 });
      const log = join(redis.dir, `stall-${prefix}.txt`);
      writeFileSync(log, '');
      const call = pool.apply(countedSlow, [log, 1, 4000]);
      for (let i = 0; i < 400 && readFileSync(log, 'utf8') === ''; i++) await new Promise((r) => setTimeout(r, 25));
      const ran = readFileSync(log, 'utf8').includes('hostA') ? a : b;
      ran.signal('SIGKILL');
      await assert.rejects(call, (e: Error) => e instanceof WorkerDiedError && /stalled/.test(e.message));
    } finally {
      await stopAll([a, b]);
    }
  });

  it('wrong credentials are a clear error, for the caller and for the worker', async () => {
    const guarded = await startRedis({ password: 's3cret' });
    try {
      const wrong = `redis://:nope@127.0.0.1:${guarded.port}`;
      const ctx = getContext('bullmq', { connection: wrong, prefix: 'auth' });
      await using pool = new ctx.Pool({ processes: 1 });
      await assert.rejects(
        pool.apply(square, [2]),
        (e: Error) => e instanceof AuthenticationError && /refused the credentials.*check the user and password/.test(e.message),
      );
      const worker = await startWorker(wrong, 'hostA', [], { announce: false });
      const exit = await worker.exited;
      assert.equal(exit.code, 1, worker.output());
      assert.match(worker.output(), /refused the credentials/);
      await ctx.close();
    } finally {
      await guarded.dispose();
    }
  });

  it('Redis restarted mid-run: calls wait and go on; Redis gone for good: they fail with ConnectionError', async () => {
    const durable = await startRedis({ persist: true });
    const workers: Worker[] = [];
    try {
      const prefix = 'restart';
      const ctx = getContext('bullmq', { connection: durable.url, prefix, unreachableTimeout: 4_000 });
      workers.push(await startWorker(durable.url, 'hostA', ['--prefix', prefix, '--concurrency', '4']));
      await using pool = new ctx.Pool({ processes: 4 });
      assert.equal(await pool.apply(square, [3]), 9);
      const running = pool.starmap(
        slowSquare,
        [1, 2, 3, 4, 5, 6].map((x) => [x, 600] as [number, number]),
        { chunksize: 1 },
      );
      await new Promise((r) => setTimeout(r, 300));
      await durable.stop();
      await new Promise((r) => setTimeout(r, 1000));
      await durable.start();
      assert.deepEqual(
        (await running).map((r) => r.x),
        [1, 4, 9, 16, 25, 36],
      );

      await durable.stop();
      const started = Date.now();
      await assert.rejects(pool.apply(square, [4]), (e: Error) => e instanceof ConnectionError && /unreachable/.test(e.message));
      assert.ok(Date.now() - started < 15_000, `failed after ${Date.now() - started} ms`);
    } finally {
      await stopAll(workers);
      await durable.dispose();
    }
  });

  it('Redis restarted without its data: a call whose job was lost fails clearly instead of hanging', async () => {
    const volatile = await startRedis();
    const workers: Worker[] = [];
    try {
      const prefix = 'volatile';
      const ctx = getContext('bullmq', { connection: volatile.url, prefix, unreachableTimeout: 20_000 });
      workers.push(await startWorker(volatile.url, 'hostA', ['--prefix', prefix]));
      await using pool = new ctx.Pool({ processes: 1 });
      const call = pool.apply(slowSquare, [3, 3000]);
      const queue = await backendFor({ connection: volatile.url, prefix }).queue();
      for (let i = 0; i < 400 && (await queue.getActiveCount()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      await volatile.stop();
      await volatile.start();
      const started = Date.now();
      await assert.rejects(call, (e: Error) => e instanceof ConnectionError && /was lost: Redis at .* no longer holds its job/.test(e.message));
      assert.ok(Date.now() - started < 15_000, `failed after ${Date.now() - started} ms`);
    } finally {
      await stopAll(workers);
      await volatile.dispose();
    }
  });

  it('a hub shows the cluster: a node per host with its workers, exact job counts, a failure and a retry, and arrows from each submit to its run', async () => {
    const prefix = `t${process.pid}x${++prefixes}`;
    const flags = ['--prefix', prefix, '--concurrency', '2', '--lock-duration', '2000', '--stalled-interval', '1000'];
    const workers = [await startWorker(redis.url, 'hostA', flags), await startWorker(redis.url, 'hostB', flags)];
    const hub = new Hub({ preload: false, sampleIntervalMs: false });
    const trace = new TraceRecorder();
    hub.onHello((key, hello) => trace.hello(key, hello));
    hub.onEvents((key, events) => trace.events(key, events));
    const { env } = await hub.start();
    try {
      const run = await runProgram('test/fixtures/bullmq-hub.ts', { args: [redis.url, prefix, join(redis.dir, `die-${prefix}`)], env, deadlineMs: 90_000 });
      assert.equal(run.code, 0, run.stderr);
      const truth = JSON.parse(run.stdout.trim().split('\n').pop()!) as { done: Record<string, number>; failedOn: string; retriedOn: string };
      assert.equal(
        Object.values(truth.done).reduce((a, b) => a + b, 0),
        21,
      );
      const deadline = Date.now() + 10_000;
      const cluster = () => hub.model.snapshot().clusters?.[0];
      while ((cluster()?.ended ?? 0) < 22 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const c = cluster();
      assert.ok(c, 'the cluster was reported');
      assert.equal(c.queue, `${prefix}:tasks`);
      assert.equal(c.address, `127.0.0.1:${redis.port}`);
      assert.equal(c.reportedBy, String(run.pid));
      assert.deepEqual(
        { submitted: c.submitted, ended: c.ended, retried: c.retried, completed: c.completed, failed: c.failed, waiting: c.waiting, active: c.active },
        { submitted: 22, ended: 22, retried: 1, completed: 21, failed: 1, waiting: 0, active: 0 },
      );
      assert.deepEqual(
        c.workers.map((w) => w.host),
        ['hostA', 'hostB'],
      );
      for (const w of c.workers) {
        const real = workers.find((x) => x.name === w.name)!;
        assert.deepEqual(
          { name: w.name, pid: w.pid, capacity: w.capacity, program: `${w.program}@${w.version}`, jobsDone: w.jobsDone, jobsFailed: w.jobsFailed },
          {
            name: w.host,
            pid: real.child.pid,
            capacity: 2,
            program: 'forkscope@0.1.0',
            jobsDone: truth.done[w.host] ?? 0,
            jobsFailed: truth.failedOn === w.host ? 1 : 0,
          },
        );
      }
      assert.equal(c.workers.find((w) => w.host === truth.retriedOn)!.alive, true, 'the survivor is alive');
      // The CLI's tree: a node per host, each worker with pid, capacity, program and counts.
      const tree = renderTree(hub.model.snapshot()).join('\n');
      assert.match(tree, new RegExp(`cluster ${prefix}:tasks on redis 127\\.0\\.0\\.1:${redis.port}: 0 waiting, 0 active, 21 completed, 1 failed, 1 retried`));
      for (const w of workers)
        assert.match(
          tree,
          new RegExp(`host ${w.name}\\n.*worker ${w.name} \\(pid ${w.child.pid}, capacity 2, forkscope@0\\.1\\.0\\) .* ${truth.done[w.name] ?? 0} done`),
        );
      // Trace: each job's submit (caller's row) joined by one arrow to its run on the worker's own row.
      const events = trace.toJSON().traceEvents;
      const starts = events.filter((e) => e.ph === 's' && e.cat === 'Cluster');
      const ends = events.filter((e) => e.ph === 'f' && e.cat === 'Cluster');
      assert.equal(starts.length, 22);
      assert.equal(ends.length, 22, 'one run per job ended on a worker (the killed run has none)');
      assert.ok(starts.every((e) => e.pid === run.pid));
      const startIds = new Set(starts.map((e) => e.id));
      assert.ok(ends.every((e) => startIds.has(e.id) && e.pid >= 10_000_000));
      const rows = events.filter((e) => e.ph === 'M' && e.name === 'process_name' && e.pid >= 10_000_000).map((e) => String(e.args?.name));
      assert.deepEqual(rows.map((r) => r.split(' · ')[0]).sort(), ['hostA@hostA', 'hostB@hostB']);
    } finally {
      await hub.close();
      await stopAll(workers);
    }
  });

  it('forkscope debug-worker attaches to a remote worker through Redis, sealed, its inspector on loopback only; a wrong key is refused', async () => {
    const { prefix } = context(redis);
    const key = 'a-debug-secret-of-32-characters!';
    const worker = await startWorker(redis.url, 'hostA', ['--prefix', prefix, '--debug-key', key]);
    const relayCli = spawn(process.execPath, [CLI, 'debug-worker', '--backend', redis.url, '--prefix', prefix, '--name', 'hostA'], {
      cwd: ROOT,
      env: { ...process.env, FORKSCOPE_DEBUG_KEY: key },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    relayCli.stdout.on('data', (d: Buffer) => (out += d));
    relayCli.stderr.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((r) => relayCli.on('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 1200 && !/ws:\/\/\S+/.test(out) && relayCli.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25));
      const url = /is at (ws:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(out)?.[1];
      assert.ok(url, out);
      assert.match(out, new RegExp(`worker hostA \\(pid ${worker.child.pid}\\)`));
      const cdp = await CDP({ target: url, local: true });
      try {
        const evaluate = async (expression: string) => (await cdp.send('Runtime.evaluate', { expression, returnByValue: true })).result.value;
        assert.equal(await evaluate('process.pid'), worker.child.pid);
        assert.equal(await evaluate('process.env.FORKSCOPE_HOST'), 'hostA');
        // The worker's inspector listens on its loopback only; the debugger reached it through Redis.
        assert.match(String(await evaluate("process.mainModule.require('node:inspector').url()")), /^ws:\/\/127\.0\.0\.1:\d+\//);
        // A pause stops the worker's event loop, not the relay: the debugger hears of the pause and can resume it.
        await cdp.send('Debugger.enable');
        const paused = new Promise<string>((resolve) => cdp.on('Debugger.paused', (p) => resolve(p.callFrames[0]?.functionName ?? '')));
        const evaluated = evaluate('(function pausedHere() { debugger; return 7; })()');
        const stopped = await Promise.race([paused, new Promise((r) => setTimeout(r, 10_000, 'no pause event in 10 s'))]);
        assert.equal(stopped, 'pausedHere');
        await cdp.send('Debugger.resume');
        assert.equal(await evaluated, 7);
      } finally {
        await cdp.close();
      }
      assert.match(worker.output(), /debugger attached through Redis/);
      // A debugger without the key gets a clear error, and the worker refuses the request.
      await assert.rejects(
        openDebugRelay({ connection: redis.url, prefix, worker: 'hostA', secret: 'not-the-right-key-at-all', timeoutMs: 2_000 }),
        /did not answer the debug request in 2 s: start it with --debug-key/,
      );
      assert.match(worker.output(), /refused a debug request: it was not sealed with this worker's debug key/);
      await assert.rejects(openDebugRelay({ connection: redis.url, prefix, worker: 'nobody', secret: key }), /no worker named nobody in the roll/);
      relayCli.kill('SIGTERM');
      assert.equal(await exited, 0, out);
      // The relay's end ends the worker's session (and closes the inspector it opened).
      for (let i = 0; i < 400 && !/debugger detached/.test(worker.output()); i++) await new Promise((r) => setTimeout(r, 25));
      assert.match(worker.output(), /debugger detached/);
      // The worker stopping while debugged ends the session on the debugger's side too (its port closes, the CLI exits).
      const second = spawn(process.execPath, [CLI, 'debug-worker', '--backend', redis.url, '--prefix', prefix, '--name', 'hostA'], {
        cwd: ROOT,
        env: { ...process.env, FORKSCOPE_DEBUG_KEY: key },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let secondOut = '';
      second.stdout.on('data', (d: Buffer) => (secondOut += d));
      second.stderr.on('data', (d: Buffer) => (secondOut += d));
      const secondExit = new Promise<number | null>((r) => second.on('exit', (code) => r(code)));
      try {
        for (let i = 0; i < 1200 && !/ws:\/\/\S+/.test(secondOut) && second.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25));
        assert.match(secondOut, /is at ws:/);
        worker.signal('SIGTERM');
        const code = await Promise.race([secondExit, new Promise((r) => setTimeout(r, 15_000, 'still running 15 s after the worker stopped'))]);
        assert.equal(code, 0, `${secondOut}\n${worker.output()}`);
        assert.match(secondOut, /worker hostA ended the debug session \(it stopped\)/);
      } finally {
        second.kill('SIGKILL');
      }
    } finally {
      relayCli.kill('SIGKILL');
      await stopAll([worker]);
    }
  });

  it("an idle caller whose Redis went away still ends by itself (ioredis's reconnect timer is unref'd while idle)", async () => {
    const gone = await startRedis();
    try {
      const run = await runProgram('test/fixtures/bullmq-idle-exit.ts', { args: [gone.url, `t${process.pid}idle`], deadlineMs: 30_000 });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /idle, so ending/);
    } finally {
      await gone.dispose();
    }
  });

  it('FORKSCOPE_BACKEND sends a plain Pool to the cluster', async () => {
    const prefix = 'forkscope';
    const worker = await startWorker(redis.url, 'hostA', ['--prefix', prefix]);
    process.env.FORKSCOPE_BACKEND = redis.url;
    try {
      await using pool = new Pool(2);
      assert.deepEqual(await pool.map(whereAmI, ['a']), [{ tag: 'a', host: 'hostA', pid: worker.child.pid }]);
    } finally {
      delete process.env.FORKSCOPE_BACKEND;
      await stopAll([worker]);
    }
  });
});
