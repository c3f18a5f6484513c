// The accuracy layer (issue 17): unmodified programs run under `forkscope run --snapshot --trace`, each
// with its ground truth known by construction (or counted by the program itself), and every count,
// state, start and exit asserted exactly. Build first (`npm run build`).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { delimiter } from 'node:path';
import { FIXTURES, forkscopeRun } from './forkscopeRun';

/** A devDependency the layer needs, or why its test is skipped. */
function missing(name: string): string | false {
  try {
    require.resolve(name, { paths: [FIXTURES, ...(process.env.NODE_PATH ?? '').split(delimiter).filter(Boolean)] });
    return false;
  } catch {
    return `${name} is not installed: add it to devDependencies (npm i -D ${name})`;
  }
}

/** A pool program's line `<runtime> <sum> <worker>:<tasks> …` (what each worker ran, by its pid or thread id) as a map. */
function ranOn(line: string): Map<number, number> {
  return new Map(
    line
      .split(' ')
      .slice(2)
      .map((pair) => pair.split(':').map(Number) as [number, number]),
  );
}

describe('accuracy: worker_threads', () => {
  it('counts worker.postMessage, parentPort and MessagePort traffic exactly, and nothing of Node’s own', async () => {
    const N = 5_000;
    const K = 300;
    const { code, stdout, snapshot, trace } = await forkscopeRun('accuracy-threads.js', { args: [String(N), String(K)] });
    assert.equal(code, 0);
    assert.equal(stdout, `thread a up\ntruth a=${2 * N + 1} b=${2 * K + 1} local=3\n`);
    const main = snapshot.processes.find((p) => p.parent === undefined)!;
    const threads = snapshot.processes.filter((p) => p.threadId !== 0).sort((x, y) => x.threadId - y.threadId);
    assert.deepEqual(
      threads.map((t) => [t.name, t.parent, t.state, t.exitCode]),
      [
        ['Thread-1', main.key, 'exited', 0],
        ['Thread-2', main.key, 'exited', 1],
      ],
    );
    const byPeer = (t: { key: string }) => snapshot.pipes.find((p) => p.kind === 'Channel' && p.ends.includes(t.key));
    assert.equal(byPeer(threads[0]!)?.messages, 2 * N + 1, 'thread a: N round trips and "stop"');
    assert.equal(byPeer(threads[1]!)?.messages, 2 * K + 1, 'thread b: the port, then K round trips over it');
    const local = snapshot.pipes.filter((p) => p.kind === 'Channel' && p.ends.length === 1 && p.ends[0] === main.key);
    assert.deepEqual(
      local.map((p) => p.messages),
      [3],
      'the main thread’s own MessageChannel: 3 sends, counted once',
    );
    assert.equal(snapshot.pipes.filter((p) => p.kind === 'Channel').length, 3, JSON.stringify(snapshot.pipes.map((p) => [p.label, p.messages])));
    // Every message is one arrow whose two ends share an id.
    const starts = trace.traceEvents.filter((e) => e.ph === 's' && e.cat === 'Channel');
    const ends = new Map(trace.traceEvents.filter((e) => e.ph === 'f' && e.cat === 'Channel').map((e) => [e.id, e]));
    assert.equal(starts.length, 2 * N + 1 + 2 * K + 1 + 3);
    assert.equal(ends.size, starts.length);
    assert.ok(
      starts.every((e) => ends.has(e.id)),
      'each arrow has both ends',
    );
  });
});

describe('accuracy: a thread the preload cannot reach', () => {
  it('counts a thread started with an environment of its own exactly, from the thread that started it', async () => {
    const { code, stdout, snapshot } = await forkscopeRun('accuracy-threads-env.js', { args: ['1000'] });
    assert.equal(code, 0);
    assert.equal(stdout, 'truth 2001\n');
    assert.deepEqual(
      snapshot.pipes.map((p) => p.messages),
      [2001],
    );
    assert.deepEqual(
      snapshot.processes.map((p) => [p.name, p.state, p.exitCode]),
      [
        ['MainProcess', 'exited', 0],
        ['Thread-1', 'exited', 0],
      ],
    );
  });
});

describe('accuracy: piscina', () => {
  it('counts 20,000 piscina tasks exactly, per thread, from a program that keeps its event loop busy from the start', async () => {
    const { code, stdout, snapshot } = await forkscopeRun('accuracy-piscina.js', { args: ['20000'] });
    assert.equal(code, 0);
    const match = /^sum (\d+) truth (.*)\n$/.exec(stdout);
    assert.ok(match, stdout);
    assert.equal(match[1], String(Array.from({ length: 20_000 }, (_, i) => i * i).reduce((a, b) => a + b, 0)));
    const truth = new Map(match[2]!.split(' ').map((pair) => pair.split(':').map(Number) as [number, number]));
    const main = snapshot.processes.find((p) => p.parent === undefined)!;
    assert.deepEqual([main.name, main.state, main.exitCode], ['MainProcess', 'exited', 0]);
    const threads = snapshot.processes.filter((p) => p.threadId !== 0);
    assert.equal(threads.length, 2);
    for (const t of threads) {
      // piscina ends its threads with terminate(): exit code 1.
      assert.deepEqual([t.parent, t.state, t.exitCode], [main.key, 'exited', 1]);
      const channel = snapshot.pipes.filter((p) => p.kind === 'Channel' && p.ends.includes(t.key));
      assert.deepEqual(
        channel.map((p) => p.messages),
        [truth.get(t.threadId)],
        `thread ${t.threadId}`,
      );
    }
    assert.equal(snapshot.pipes.length, 2, JSON.stringify(snapshot.pipes.map((p) => [p.label, p.messages])));
  });
});

describe('accuracy: workerpool', () => {
  it('counts 5,000 workerpool tasks exactly, per thread', async () => {
    const { code, stdout, snapshot } = await forkscopeRun('accuracy-workerpool.js', { args: ['5000'] });
    assert.equal(code, 0);
    const match = /^sum (\d+) truth (.*)\n$/.exec(stdout);
    assert.ok(match, stdout);
    const truth = new Map(match[2]!.split(' ').map((pair) => pair.split(':').map(Number) as [number, number]));
    const main = snapshot.processes.find((p) => p.parent === undefined)!;
    const threads = snapshot.processes.filter((p) => p.threadId !== 0);
    assert.equal(threads.length, 2);
    for (const t of threads) {
      assert.deepEqual([t.parent, t.state, t.exitCode], [main.key, 'exited', 0]);
      assert.deepEqual(
        snapshot.pipes.filter((p) => p.ends.includes(t.key)).map((p) => p.messages),
        [truth.get(t.threadId)],
        `thread ${t.threadId}`,
      );
    }
    assert.equal(snapshot.pipes.length, 2);
  });
});

describe('accuracy: tinypool', () => {
  it('counts tinypool tasks exactly on threads and on child processes it forks with an environment of its own', async () => {
    const tasks = 1_000;
    const { code, stdout, snapshot, trace } = await forkscopeRun('accuracy-tinypool.mjs', { args: [String(tasks)] });
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 2, stdout);
    const threadsRan = ranOn(lines[0]!);
    const processesRan = ranOn(lines[1]!);
    const main = snapshot.processes.find((p) => p.parent === undefined)!;
    const threads = snapshot.processes.filter((p) => p.threadId !== 0);
    assert.equal(threads.length, 2);
    for (const t of threads) {
      // Per thread: tinypool's start message and "ready", then each task and its result.
      assert.deepEqual([t.parent, t.state, t.exitCode], [main.key, 'exited', 1]);
      assert.deepEqual(
        snapshot.pipes.filter((p) => p.ends.includes(t.key)).map((p) => p.messages),
        [2 + 2 * threadsRan.get(t.threadId)!],
      );
    }
    const children = snapshot.processes.filter((p) => p.threadId === 0 && p.parent === main.key);
    assert.deepEqual(children.map((c) => c.pid).sort(), [...processesRan.keys()].sort(), 'both forked processes, though the preload cannot reach them');
    for (const c of children) {
      assert.deepEqual([c.name, c.state, c.signal], ['process.js', 'exited', 'SIGTERM']);
      const ipc = snapshot.pipes.filter((p) => p.ends.includes(c.key));
      assert.deepEqual(
        ipc.map((p) => p.messages),
        [2 + 2 * processesRan.get(c.pid)!],
        `IPC with ${c.pid}`,
      );
      const starts = trace.traceEvents.filter((e) => e.ph === 'i' && e.cat === 'Process' && e.args?.child === c.key);
      assert.equal(starts.length, 1, 'one start in the trace');
      const exits = trace.traceEvents.filter((e) => e.ph === 'i' && e.cat === 'Process' && e.pid === c.pid && e.args?.exitCode !== undefined);
      assert.deepEqual(
        exits.map((e) => e.args?.signal),
        ['SIGTERM'],
        'one exit in the trace, with its signal',
      );
    }
    // In child_process mode tinypool relays each task through a MessageChannel of its own in the main thread.
    const local = snapshot.pipes
      .filter((p) => p.ends.length === 1)
      .map((p) => p.messages)
      .sort((a, b) => a - b);
    assert.deepEqual(
      local,
      [...processesRan.values()].map((n) => 2 * n).sort((a, b) => a - b),
    );
    assert.equal(snapshot.processes.length, 5);
  });
});

describe('accuracy: cluster', () => {
  it('keeps everything up to Ctrl+C: every message, and each process killed by SIGINT with its signal', async () => {
    const servedBy = new Map<number, number>();
    let failure: unknown;
    const { snapshot, trace } = await forkscopeRun('accuracy-cluster.js', {
      onOutput: {
        when: /ready \d+\n/,
        then: (group, stdout) => {
          const port = Number(/ready (\d+)/.exec(stdout)![1]);
          void (async () => {
            try {
              for (let i = 0; i < 3; i++) {
                const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
                const pid = Number((await response.text()).trim());
                servedBy.set(pid, (servedBy.get(pid) ?? 0) + 1);
              }
            } catch (error) {
              failure = error;
            }
            // At once, as a person pressing Ctrl+C right after the last answer: the whole process group.
            process.kill(-group, 'SIGINT');
          })();
        },
      },
    });
    assert.equal(failure, undefined);
    const main = snapshot.processes.find((p) => p.parent === undefined)!;
    assert.deepEqual([main.state, main.signal, main.exitCode], ['exited', 'SIGINT', -2]);
    const workers = snapshot.processes.filter((p) => p.parent === main.key);
    assert.equal(workers.length, 2);
    for (const w of workers) {
      assert.deepEqual([w.name, w.state, w.signal, w.exitCode], ['accuracy-cluster.js', 'exited', 'SIGINT', -2], 'killed by SIGINT, and says so');
      // The greeting from the primary, then one report per request this worker served; Node's own cluster messages are not counted.
      assert.deepEqual(
        snapshot.pipes.filter((p) => p.ends.includes(w.key)).map((p) => p.messages),
        [1 + (servedBy.get(w.pid) ?? 0)],
        `worker ${w.pid}`,
      );
      const exits = trace.traceEvents.filter((e) => e.ph === 'i' && e.cat === 'Process' && e.pid === w.pid && e.args?.exitCode !== undefined);
      assert.deepEqual(
        exits.map((e) => e.args?.signal),
        ['SIGINT'],
      );
    }
    assert.equal(
      [...servedBy.values()].reduce((a, b) => a + b, 0),
      3,
    );
  });
});

describe('accuracy: the end of a program', () => {
  for (const [how, exitCode, signal] of [
    ['error', 1, null],
    ['sigterm', -15, 'SIGTERM'],
    ['exit', 3, null],
  ] as const) {
    it(`keeps every message up to the end when the program ends by ${how}`, async () => {
      const N = 2_000;
      const { stdout, snapshot } = await forkscopeRun('accuracy-end.js', { args: [how, String(N)] });
      assert.equal(stdout, 'ending\n');
      const main = snapshot.processes.find((p) => p.parent === undefined)!;
      assert.deepEqual([main.state, main.exitCode, main.signal ?? null], ['exited', exitCode, signal]);
      assert.ok(
        snapshot.processes.every((p) => p.state === 'exited'),
        JSON.stringify(snapshot.processes.map((p) => [p.name, p.state])),
      );
      assert.deepEqual(
        snapshot.pipes.map((p) => p.messages),
        [2 * N, 2 * N],
        JSON.stringify(snapshot.pipes.map((p) => [p.label, p.messages])),
      );
    });
  }
});

describe('accuracy: jest-worker', () => {
  it('counts jest-worker calls exactly on child processes and on threads', { skip: missing('jest-worker') }, async () => {
    const tasks = 1_000;
    const { code, stdout, snapshot } = await forkscopeRun('accuracy-jest-worker.js', { args: [String(tasks)] });
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 2, stdout);
    const processesRan = ranOn(lines[0]!);
    const threadsRan = ranOn(lines[1]!);
    const main = snapshot.processes.find((p) => p.parent === undefined)!;
    assert.equal(snapshot.processes.length, 5);
    // Per worker: jest-worker's initialize, then each call and its answer, then its end.
    const channelOf = (key: string) => snapshot.pipes.filter((p) => p.ends.includes(key)).map((p) => p.messages);
    for (const c of snapshot.processes.filter((p) => p.threadId === 0 && p.parent === main.key)) {
      assert.deepEqual([c.name, c.state, c.exitCode], ['processChild.js', 'exited', 0]);
      assert.deepEqual(channelOf(c.key), [2 + 2 * processesRan.get(c.pid)!], `process ${c.pid}`);
    }
    for (const t of snapshot.processes.filter((p) => p.threadId !== 0)) {
      assert.deepEqual([t.parent, t.state, t.exitCode], [main.key, 'exited', 0]);
      assert.deepEqual(channelOf(t.key), [2 + 2 * threadsRan.get(t.threadId)!], `thread ${t.threadId}`);
    }
    assert.equal(snapshot.pipes.length, 4);
  });
});

describe('accuracy: Manager calls', () => {
  it('counts every call to a Manager exactly, per caller, method and outcome, and joins each detailed call to its handling in the trace', async () => {
    const N = 600;
    const { code, stdout, snapshot, trace } = await forkscopeRun('accuracy-manager.js', { args: [String(N)] });
    assert.equal(code, 0);
    assert.equal(stdout, `truth main=${2 * N + 3} child=${2 * N + 1} dict=${2 * N} exit=0,0\n`);
    const managers = snapshot.managers ?? [];
    assert.equal(managers.length, 1);
    const m = managers[0]!;
    const byName = (name: string) => snapshot.processes.find((p) => p.name === name)!;
    const main = byName('MainProcess');
    const server = byName('SyncManager-server');
    assert.deepEqual([server.role, server.state, server.exitCode], ['manager', 'exited', 0]);
    assert.deepEqual(
      { calls: m.calls, errors: m.errors, served: m.served, server: m.server },
      { calls: 6 * N + 5, errors: 2, served: 6 * N + 5, server: server.key },
    );
    const methods = Object.fromEntries(m.methods.map((r) => [`${r.typeid}.${r.method}`, [r.calls, r.errors]]));
    assert.deepEqual(methods, {
      'dict.create': [1, 0],
      'Queue.create': [1, 0],
      'dict.set': [2 * N, 0],
      'Queue.put': [2 * N, 0],
      'Queue.get': [2 * N, 0],
      'dict.pop': [2, 2],
      'dict.len': [1, 0],
    });
    const callers = new Map(m.callers.map((c) => [c.key, c.calls]));
    assert.equal(callers.get(main.key), 2 * N + 3);
    assert.deepEqual(
      [byName('Process-1'), byName('Process-2')].map((p) => callers.get(p.key)),
      [2 * N + 1, 2 * N + 1],
    );
    assert.ok(m.meanMs > 0 && m.recent.length > 0, JSON.stringify(m.recent));
    // Each detailed call is a slice in its caller and one in the server, joined by one arrow.
    const events = trace.traceEvents.filter((e) => e.cat === 'Manager');
    const starts = events.filter((e) => e.ph === 's');
    const ends = new Map(events.filter((e) => e.ph === 'f').map((e) => [e.id, e]));
    assert.ok(starts.length >= 3, `some calls are detailed (${starts.length})`);
    assert.equal(ends.size, starts.length);
    assert.ok(
      starts.every((s) => ends.get(s.id)?.pid === server.pid && s.pid !== server.pid),
      'every arrow goes from a caller to the server',
    );
    assert.equal(events.filter((e) => e.ph === 'X').length, 2 * starts.length);
  });
});

describe('accuracy: queue and pipe arrows join by message', () => {
  it('2 producers and 3 consumers on one Queue, 3 senders on one Pipe: every arrow goes from the process that sent the message to the one that took it', async () => {
    const N = 25; // under a producer's per-flush budget of ids, so every item is drawn
    const { code, stdout, trace } = await forkscopeRun('accuracy-queue-ids.js', { args: [String(N)] });
    assert.equal(code, 0);
    const { main, producers, truth } = JSON.parse(stdout) as {
      main: string;
      producers: string[];
      truth: Array<{ consumer: string; got: Record<string, number> }>;
    };
    const expected: Record<string, number> = {};
    for (const { consumer, got } of truth) {
      for (const [from, count] of Object.entries(got)) expected[`${from === 'main' ? main : from}>${consumer}`] = count;
    }
    assert.equal(
      Object.values(expected).reduce((a, b) => a + b, 0),
      2 * N + 3,
    );
    assert.equal(producers.length, 2);
    const drawn = (cat: string) => {
      const flows = trace.traceEvents.filter((e) => e.cat === cat);
      const ends = new Map(flows.filter((e) => e.ph === 'f').map((e) => [e.id, e]));
      const pairs: Record<string, number> = {};
      for (const s of flows.filter((e) => e.ph === 's')) {
        const pair = `${s.pid}>${ends.get(s.id)?.pid ?? 'nobody'}`;
        pairs[pair] = (pairs[pair] ?? 0) + 1;
      }
      return pairs;
    };
    assert.deepEqual(drawn('Queue'), expected);
    // The tallies went over one Pipe whose sending end the three consumers share: one arrow from each to main.
    assert.deepEqual(drawn('Pipe'), Object.fromEntries(truth.map(({ consumer }) => [`${consumer}>${main}`, 1])));
  });
});
