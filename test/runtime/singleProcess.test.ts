// Single-process mode (--single-process, start method "inline") keeps the program's shape: every Process is
// still a node of the tree, marked inline, with its own state and exit, and the objects' traffic is its own.
// Real program through the built CLI (`npm run build` first).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { forkscopeRun } from './forkscopeRun';

const EXAMPLES = join(__dirname, '..', '..', 'examples');

describe('single-process mode', () => {
  it('producer_consumer.ts: Process-1 and Process-2 are in the tree, inline, and the queue traffic is theirs', async () => {
    const { code, stdout, stderr, snapshot, trace } = await forkscopeRun(join(EXAMPLES, 'producer_consumer.ts'), {
      args: [],
      env: { FORKSCOPE_SINGLE_PROCESS: '1' },
    });
    assert.equal(code, 0, stdout);
    assert.match(stdout, /Exit: naik/);
    const main = snapshot.processes.find((p) => p.name === 'MainProcess')!;
    const children = snapshot.processes.filter((p) => p.parent === main.key);
    assert.deepEqual(
      children.map((c) => [c.name, c.startMethod, c.state, c.exitCode, c.pid]).sort(),
      [
        ['Process-1', 'inline', 'exited', 0, main.pid],
        ['Process-2', 'inline', 'exited', 0, main.pid],
      ],
      JSON.stringify(snapshot.processes.map((p) => [p.key, p.name, p.parent])),
    );
    const [p1, p2] = ['Process-1', 'Process-2'].map((n) => children.find((c) => c.name === n)!.key);
    const [q] = snapshot.queues;
    assert.deepEqual([q!.puts, q!.gets], [7, 7]);
    assert.deepEqual([...q!.producers].sort(), [main.key, p1].sort());
    assert.deepEqual(q!.consumers, [p2]);
    for (const name of ['Process-1', 'Process-2']) {
      // The first line shows the state it is first seen in: a consumer may already wait on the queue.
      assert.match(stderr, new RegExp(`forkscope: \\+ ${name} \\(pid ${main.pid}, inline\\) (running|waiting on )`), stderr);
      assert.match(stderr, new RegExp(`forkscope: - ${name} \\(pid ${main.pid}, inline\\) exited 0`), stderr);
    }
    assert.ok(
      trace.traceEvents.every((e) => Number.isFinite(e.pid)),
      'every trace event has a real pid',
    );
  });
});
