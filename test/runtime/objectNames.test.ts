// Objects a program makes without a name are shown by the binding their construction site declares
// (`const accounts = new Lock()` → "accounts"), else by kind and a short number, with the site kept.
// Real programs through the built CLI (`npm run build` first).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, forkscopeRun } from './forkscopeRun';

const EXAMPLES = join(__dirname, '..', '..', 'examples');

describe('object names', () => {
  it('every form of declaration in one program, and kind plus number for the rest', async () => {
    const program = join(FIXTURES, 'object-names.ts');
    const { code, stdout, snapshot, trace } = await forkscopeRun(program);
    assert.equal(code, 0, stdout);
    const labels = [
      ...snapshot.syncs.map((s) => s.label),
      ...snapshot.queues.map((q) => q.label),
      ...snapshot.pipes.filter((p) => p.kind === 'Pipe').map((p) => p.label),
    ].sort();
    assert.deepEqual(labels, ['Semaphore 1', 'Semaphore 2', 'accounts', 'done', 'ledger', 'left ⇄ right', 'tasks'].sort());
    const accounts = snapshot.syncs.find((s) => s.label === 'accounts');
    assert.deepEqual([accounts?.site?.file, accounts?.site?.line], [program, 14], 'the construction site is kept');
    assert.ok(!trace.traceEvents.some((e) => /Lock-\d|Queue-\d|Pipe-\d/.test(e.name)), 'the trace uses the names too');
  });

  it('the examples: deadlock.ts shows accounts and ledger, pipe_sender_receiver.ts conn1 ⇄ conn2', async () => {
    const dead = await forkscopeRun(join(EXAMPLES, 'deadlock.ts'), { deadlineMs: 120_000 });
    assert.deepEqual(dead.snapshot.syncs.map((s) => s.label).sort(), ['accounts', 'ledger']);
    assert.ok(
      dead.snapshot.deadlocksSeen[0]?.message.includes('accounts') || dead.snapshot.deadlocksSeen[0]?.message.includes('ledger'),
      dead.snapshot.deadlocksSeen[0]?.message,
    );
    const pipe = await forkscopeRun(join(EXAMPLES, 'pipe_sender_receiver.ts'));
    assert.deepEqual(
      pipe.snapshot.pipes.filter((p) => p.kind === 'Pipe').map((p) => p.label),
      ['conn1 ⇄ conn2'],
    );
  });
});
