// `forkscope run` end to end: real programs through the built CLI (runtime/dist/cli.cjs + preload.cjs),
// asserting the final snapshot and the trace. Build first (`npm run build`).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Deadlock, ProgramSnapshot } from '../../hub/snapshot';
import type { TraceEvent } from '../../hub/traceRecorder';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'runtime', 'bin', 'forkscope.js');
const FIXTURES = join(ROOT, 'test', 'fixtures');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  snapshot: ProgramSnapshot & { deadlocksSeen: Deadlock[] };
  trace: { traceEvents: TraceEvent[] };
}

/** Runs `forkscope run <program> …` under a hard deadline; always removes its temp files. */
async function forkscopeRun(program: string, args: string[] = [], ms = 90_000, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-cli-'));
  try {
    const snapshotFile = join(dir, 'snapshot.json');
    const traceFile = join(dir, 'trace.json');
    const child = spawn(process.execPath, [CLI, 'run', program, '--snapshot', snapshotFile, '--trace', traceFile, ...args], {
      cwd: FIXTURES,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`forkscope run ${program} hung:\n${stdout}\n${stderr}`));
      }, ms);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    return { code, stdout, stderr, snapshot: JSON.parse(readFileSync(snapshotFile, 'utf8')), trace: JSON.parse(readFileSync(traceFile, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function root(s: ProgramSnapshot) {
  const roots = s.processes.filter((p) => p.parent === undefined);
  assert.equal(roots.length, 1, `one root: ${JSON.stringify(roots.map((p) => p.name))}`);
  return roots[0]!;
}

describe('forkscope run', () => {
  it('shows a plain child_process.fork program: tree, exits, IPC messages and bytes, trace arrows', async () => {
    const { code, stdout, snapshot, trace } = await forkscopeRun('hub-fork-parent.js');
    assert.equal(code, 0);
    assert.equal(stdout, 'all children done\n', 'the program output passes through unchanged');
    const main = root(snapshot);
    assert.deepEqual([main.name, main.role, main.state, main.exitCode], ['MainProcess', 'main', 'exited', 0]);
    const children = snapshot.processes.filter((p) => p.parent === main.key);
    assert.deepEqual(
      children.map((c) => [c.name, c.external, c.state, c.exitCode]),
      [
        ['hub-fork-child.js', true, 'exited', 0],
        ['hub-fork-child.js', true, 'exited', 0],
      ],
    );
    assert.equal(snapshot.processes.length, 3, 'no stray processes or threads');
    const channels = snapshot.pipes.filter((p) => p.kind === 'Channel');
    assert.equal(channels.length, 2);
    for (const ch of channels) {
      // 10 jobs + "stop" one way, 10 answers the other: 21 messages, each counted once.
      assert.equal(ch.messages, 21);
      assert.ok(ch.bytes > 10 * 100, `bytes counted (${ch.bytes})`);
      assert.equal(ch.ends.length, 2);
      assert.ok(
        ch.recent.some((r) => r.includes('job')),
        `previews kept: ${ch.recent.join(' | ')}`,
      );
    }
    const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => String(e.args?.name));
    assert.ok(
      names.some((n) => n.startsWith('MainProcess')),
      names.join(', '),
    );
    assert.equal(new Set(trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.pid)).size, 3);
    const starts = trace.traceEvents.filter((e) => e.ph === 's' && e.cat === 'Channel');
    const ends = trace.traceEvents.filter((e) => e.ph === 'f' && e.cat === 'Channel');
    assert.equal(starts.length, 42, 'every IPC message is an arrow');
    assert.deepEqual(new Set(starts.map((e) => e.id)), new Set(ends.map((e) => e.id)), 'each arrow has both ends');
  });

  it('shows an unmodified piscina program: its worker threads under the main process', async () => {
    const { code, stdout, snapshot } = await forkscopeRun('hub-piscina.js');
    assert.equal(code, 0);
    assert.equal(stdout, 'results 1,4,9,16\n');
    const main = root(snapshot);
    const threads = snapshot.processes.filter((p) => p.threadId !== 0);
    assert.equal(threads.length, 2, JSON.stringify(snapshot.processes.map((p) => p.key)));
    for (const t of threads) {
      assert.equal(t.parent, main.key);
      assert.equal(t.pid, main.pid);
      assert.equal(t.startMethod, 'thread');
      assert.equal(t.state, 'exited');
    }
    const ports = snapshot.pipes.filter((p) => p.kind === 'Channel');
    assert.ok(ports.reduce((n, p) => n + p.messages, 0) >= 4, 'at least the four results, posted by the workers');
  });

  it("runs TypeScript, passes arguments and output through, and exits with the program's code", async () => {
    const { code, stdout, stderr, snapshot } = await forkscopeRun('hub-exit.ts', ['a', '--b', '--single-process', '--', '--trace']);
    assert.equal(code, 7);
    assert.equal(stdout, 'args ["a","--b","--trace"]\nsingle 1\n');
    assert.match(stderr, /^to stderr$/m);
    assert.equal(snapshot.singleProcess, true);
    assert.equal(root(snapshot).exitCode, 7);
  });

  it('adds no listener warning of its own: a program with a Queue, Process, Pool, Pipe, Lock, Value and its own exit listener', async () => {
    const { code, stdout, stderr } = await forkscopeRun('exit-listeners.ts');
    assert.equal(code, 0, stderr);
    assert.equal(stdout, '1\n1,4,9\nx Lock 0\n');
    // (Node 22/24 may warn of the fixture's own module kind, MODULE_TYPELESS_PACKAGE_JSON: that one is the program's.)
    assert.doesNotMatch(stderr, /MaxListenersExceededWarning/, stderr);
  });

  it('prints one "+" and one "-" line for every process, however short-lived, and the main process\'s "-" last', async () => {
    const { code, stderr, snapshot } = await forkscopeRun('cli-lines.js');
    assert.equal(code, 0, stderr);
    const lines = stderr.split('\n').filter((l) => /^forkscope: [+-] /.test(l));
    const pids = snapshot.processes.map((p) => p.pid);
    assert.equal(pids.length, 9, JSON.stringify(snapshot.processes.map((p) => [p.name, p.state])));
    for (const pid of pids) {
      const mine = lines.filter((l) => l.includes(`(pid ${pid})`) || l.includes(`(pid ${pid},`));
      assert.deepEqual(
        mine.map((l) => l.slice('forkscope: '.length, 'forkscope: '.length + 1)),
        ['+', '-'],
        `pid ${pid}:\n${lines.join('\n')}`,
      );
    }
    assert.match(lines.at(-1)!, new RegExp(`^forkscope: - ${root(snapshot).name} \\(pid ${root(snapshot).pid}\\)`), lines.join('\n'));
  });

  it('marks a child killed with SIGKILL as dead with its signal', async () => {
    const { code, stdout, snapshot } = await forkscopeRun('hub-kill-parent.js');
    assert.equal(code, 0);
    assert.equal(stdout, 'child ended null SIGKILL\n');
    const child = snapshot.processes.find((p) => p.name === 'hub-fork-child.js');
    assert.deepEqual([child?.state, child?.signal, child?.exitCode], ['exited', 'SIGKILL', -9]);
  });

  // The deadlock fixtures speak the protocol through runtime/src/telemetry.ts, which is CommonJS TypeScript with
  // import statements (runtime/package.json says "type": "commonjs"): only a compiler can load it, never Node's own
  // type stripping. Where Node strips types, this run turns stripping off, so the runtime's loader takes over.
  const RUNTIME_LOADER = (process.features as { typescript?: unknown }).typescript
    ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --no-experimental-strip-types`.trim() }
    : {};

  it('reports a deadlock with both source locations, and the waits as trace spans', async () => {
    const { code, stdout, stderr, snapshot, trace } = await forkscopeRun('hub-deadlock-main.ts', [], 90_000, RUNTIME_LOADER);
    assert.equal(code, 0);
    assert.equal(stdout, 'both gave up\n');
    assert.equal(snapshot.deadlocksSeen.length, 1, stderr);
    const [d] = snapshot.deadlocksSeen;
    assert.equal(d!.kind, 'locks');
    assert.equal(d!.cycle.length, 2);
    for (const step of d!.cycle) {
      assert.equal(step.site?.file, join(FIXTURES, 'hub-deadlock-child.ts'));
      assert.equal(step.site?.line, 5);
    }
    assert.deepEqual(new Set(d!.cycle.map((c) => c.waitsFor)).size, 2);
    assert.match(
      stderr,
      /forkscope: Deadlock: hub-deadlock-child\.ts \(pid \d+\) waits for Lock (ledger|accounts) at .*hub-deadlock-child\.ts:5:\d+, held by hub-deadlock-child\.ts/,
    );
    assert.deepEqual(snapshot.deadlocks, [], 'the cycle is gone once both gave up');
    const waits = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'Lock' && e.name.startsWith('Lock wait'));
    assert.equal(waits.length, 2);
    for (const w of waits) assert.ok((w.dur ?? 0) >= 1_000_000, `the wait lasted over a second (${w.dur} µs)`);
  });

  it('reports a consumer waiting on a queue whose every producer exited, naming the processes', async () => {
    const { code, stdout, stderr, snapshot } = await forkscopeRun('integ-starved-queue.ts');
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'got 1 2\ngave up: every producer exited\n');
    const producer = snapshot.processes.find((p) => p.name === 'producer')!;
    const consumer = snapshot.processes.find((p) => p.name === 'consumer')!;
    const [q] = snapshot.queues;
    assert.deepEqual([q?.puts, q?.gets, q?.depth], [2, 2, 0]);
    assert.deepEqual([q!.producers, q!.consumers], [[producer.key], [consumer.key]]);
    const starved = snapshot.deadlocksSeen.filter((d) => d.kind === 'queue');
    assert.equal(starved.length, 1, JSON.stringify(snapshot.deadlocksSeen));
    assert.deepEqual(
      starved[0]!.cycle.map((c) => [c.process, c.waitsFor, c.heldBy]),
      [[consumer.key, q!.id, producer.key]],
    );
    assert.equal(starved[0]!.cycle[0]!.site?.file, join(FIXTURES, 'integ-starved-queue.ts'));
    assert.deepEqual(snapshot.deadlocks, [], 'gone once the consumer gave up');
  });
});

describe('forkscope run on the examples (the real runtime)', () => {
  const EXAMPLES = join(ROOT, 'examples');

  it('producer_consumer.ts: the tree, the Queue with its traffic, depth counters in the trace', async () => {
    const { code, stdout, snapshot, trace } = await forkscopeRun(join(EXAMPLES, 'producer_consumer.ts'));
    assert.equal(code, 0);
    assert.match(stdout, /Exit: naik/);
    const main = root(snapshot);
    assert.deepEqual([main.name, main.role, main.exitCode], ['MainProcess', 'main', 0]);
    const children = snapshot.processes.filter((p) => p.parent === main.key);
    assert.deepEqual(children.map((c) => [c.name, c.role, c.state, c.exitCode]).sort(), [
      ['Process-1', 'process', 'exited', 0],
      ['Process-2', 'process', 'exited', 0],
    ]);
    // Beside the program's own three, the sampler may catch helpers that are not Node (tsx's esbuild service)
    // on a slow machine: those are shown as external and are not the program's processes.
    assert.deepEqual(snapshot.processes.filter((p) => !p.external).length, 3, JSON.stringify(snapshot.processes.map((p) => [p.name, p.role])));
    const [q] = snapshot.queues;
    assert.equal(q?.kind, 'Queue');
    assert.equal(q?.site?.file, join(EXAMPLES, 'producer_consumer.ts'));
    // 'xyz', five names and the sentinel, each put and taken once, reported even in the last moments before exit.
    assert.equal(q!.puts, 7, `puts ${q!.puts}`);
    assert.equal(q!.gets, 7, `gets ${q!.gets}`);
    assert.equal(q!.depth, 0);
    assert.ok(q!.history.length >= 2, `depth history ${JSON.stringify(q!.history)}`);
    assert.ok(
      q!.history.some(([, depth]) => depth > 0),
      `the depth rose at some point: ${JSON.stringify(q!.history)}`,
    );
    // Producers and consumers are the processes that put and took, not the queue's owner.
    const [p1, p2] = ['Process-1', 'Process-2'].map((n) => children.find((c) => c.name === n)!.key);
    assert.deepEqual([...q!.producers].sort(), [main.key, p1].sort());
    assert.deepEqual(q!.consumers, [p2]);
    assert.ok(trace.traceEvents.some((e) => e.ph === 'C' && e.cat === 'Queue' && typeof e.args?.depth === 'number'));
    const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => String(e.args?.name));
    for (const n of ['MainProcess', 'Process-1', 'Process-2'])
      assert.ok(
        names.some((x) => x.startsWith(`${n} ·`)),
        `${n} named in the trace: ${names.join(', ')}`,
      );
  });

  // tsx compiles a .ts file on a cold cache (a fresh machine, a full `npm test` run) with esbuild's transformSync,
  // which runs on a worker thread of esbuild's own: that thread once showed as a Thread-N row and an empty Channel
  // under each child. TSX_DISABLE_CACHE=1 makes every run cold, so these two checks meet that thread every time.
  const COLD_TSX = { TSX_DISABLE_CACHE: '1' };

  it("producer_consumer.ts: the runtime's own bootstrap traffic is not shown as user IPC", async () => {
    const { snapshot } = await forkscopeRun(join(EXAMPLES, 'producer_consumer.ts'), [], 90_000, COLD_TSX);
    assert.deepEqual(
      snapshot.processes.filter((p) => p.threadId !== 0).map((p) => p.name),
      [],
      "no tool thread (esbuild's) in the tree",
    );
    assert.equal(snapshot.pipes.filter((p) => p.kind === 'Channel').length, 0, "the runtime's own bootstrap traffic is not shown as user IPC");
  });

  it("under --inspect, the runtime's own helper threads (the debugger watchdog) are not shown as the program's", async () => {
    // No debugger joins: each process's watchdog releases it after 300 ms, and the program runs to its end.
    const { code, snapshot } = await forkscopeRun(join(EXAMPLES, 'pipe_sender_receiver.ts'), ['--inspect'], 90_000, {
      ...COLD_TSX,
      FORKSCOPE_DEBUG_WAIT_MS: '300',
    });
    assert.equal(code, 0);
    assert.deepEqual(
      snapshot.processes.filter((p) => p.threadId !== 0).map((p) => p.name),
      [],
      'no helper thread in the tree',
    );
    assert.deepEqual(
      snapshot.pipes.filter((p) => p.kind === 'Channel').map((p) => p.label),
      [],
      'no helper thread channel',
    );
    assert.equal(snapshot.processes.filter((p) => !p.external).length, 3);
  });

  it('lock_print.ts: ten processes under the main one, the Lock reported and free at the end', async () => {
    const { code, stdout, snapshot } = await forkscopeRun(join(EXAMPLES, 'lock_print.ts'));
    assert.equal(code, 0);
    assert.equal(stdout.trim().split('\n').length, 10);
    const main = root(snapshot);
    const children = snapshot.processes.filter((p) => p.parent === main.key);
    assert.equal(children.length, 10);
    assert.ok(children.every((c) => c.role === 'process' && c.exitCode === 0));
    const lock = snapshot.syncs.find((s) => s.site?.file === join(EXAMPLES, 'lock_print.ts'));
    assert.equal(lock?.kind, 'Lock');
    assert.equal(lock?.holder ?? null, null);
    assert.deepEqual(snapshot.deadlocks, []);
  });

  it('deadlock.ts: two processes, two locks, opposite order: the cycle with both call sites', async () => {
    const { code, stdout, snapshot } = await forkscopeRun(join(EXAMPLES, 'deadlock.ts'), [], 120_000);
    assert.equal(code, 0);
    assert.match(stdout, /done/);
    assert.equal(snapshot.deadlocksSeen.length, 1);
    const lines = snapshot.deadlocksSeen[0]!.cycle.map((c) => c.site?.line).sort();
    assert.deepEqual(lines, [13, 13], 'both processes wait at the second acquire');
    assert.deepEqual(
      snapshot.deadlocksSeen[0]!.cycle.map((c) => c.site?.file),
      [join(EXAMPLES, 'deadlock.ts'), join(EXAMPLES, 'deadlock.ts')],
    );
    // Each waits for the lock the other holds: the two real locks, by their ids, not their kind.
    const ids = snapshot.syncs
      .filter((x) => x.site?.file === join(EXAMPLES, 'deadlock.ts'))
      .map((x) => x.id)
      .sort();
    assert.equal(ids.length, 2);
    assert.deepEqual(snapshot.deadlocksSeen[0]!.cycle.map((c) => c.waitsFor).sort(), ids);
    assert.deepEqual(snapshot.deadlocks, [], 'the cycle is gone once both gave up');
  });

  it('pipe_sender_receiver.ts: the Pipe with its four messages, bytes, both ends and previews', async () => {
    const { code, stdout, snapshot } = await forkscopeRun(join(EXAMPLES, 'pipe_sender_receiver.ts'));
    assert.equal(code, 0);
    assert.match(stdout, /EOFError/);
    const main = root(snapshot);
    const children = snapshot.processes.filter((p) => p.parent === main.key);
    const pipes = snapshot.pipes.filter((p) => p.kind === 'Pipe');
    assert.equal(pipes.length, 1, JSON.stringify(snapshot.pipes));
    const [p] = pipes;
    assert.equal(p!.messages, 4, 'each message counted once though both ends report');
    assert.ok(p!.bytes >= 4 * 15, `bytes ${p!.bytes}`);
    assert.deepEqual([...p!.ends].sort(), children.map((c) => c.key).sort());
    assert.ok(p!.recent.includes('"try to practice all the code "'), p!.recent.join(' | '));
  });

  it('pipesample.ts: messages sent before the child starts still count once, from the main process to the child, with safe previews', async () => {
    const { code, stdout, snapshot } = await forkscopeRun(join(EXAMPLES, 'pipesample.ts'));
    assert.equal(code, 0);
    assert.match(stdout, /Child:Receive:42/);
    const main = root(snapshot);
    const [child] = snapshot.processes.filter((p) => p.parent === main.key);
    const [p] = snapshot.pipes.filter((x) => x.kind === 'Pipe');
    assert.equal(p?.messages, 5);
    assert.ok(p!.bytes > 0);
    assert.deepEqual([...p!.ends].sort(), [main.key, child!.key].sort());
    // The newest previews (telemetry keeps the last three per flush); a class instance is named, never run.
    assert.deepEqual(p!.recent.slice(-3), ['{one: 1}', '{…}', 'null']);
  });
});
