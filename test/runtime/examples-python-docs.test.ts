// Python's multiprocessing documentation examples (the library page and Doc/includes/mp_*.py), ported to
// examples/: each runs as a user runs it, under a hard deadline, and prints what its Python twin prints
// (timings and pids aside).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runProgram } from './runProgram';

async function run(file: string, args: string[] = []): Promise<string> {
  const { code, stdout, stderr } = await runProgram(join('examples', file), { args, deadlineMs: 120_000 });
  assert.equal(code, 0, `${file} exited ${code}\n${stderr}`);
  return stdout;
}

/** The "<name> says that <func>(a, b) = r" lines of mp_workers/mp_pool, as [func, a, b, r]. */
function says(out: string): Array<[string, number, number, number]> {
  return [...out.matchAll(/says that (\w+)\((\d+), (\d+)\) = (\d+)/g)].map((m) => [m[1]!, Number(m[2]), Number(m[3]), Number(m[4])]);
}

describe('Python documentation examples', () => {
  it('poolOfWorkers.ts: "Using a pool of workers"', { timeout: 130_000 }, async () => {
    const lines = (await run('poolOfWorkers.ts')).trim().split('\n');
    const squares = Array.from({ length: 10 }, (_, i) => i * i);
    assert.equal(lines[0], `[${squares.join(', ')}]`);
    assert.deepEqual(
      lines
        .slice(1, 11)
        .map(Number)
        .sort((a, b) => a - b),
      squares,
    );
    assert.equal(lines[11], '400');
    assert.match(lines[12]!, /^\d+$/);
    assert.match(lines[13]!, /^\[\d+, \d+, \d+, \d+\]$/);
    assert.deepEqual(lines.slice(14), [
      'We lacked patience and got a multiprocessing.TimeoutError',
      'For the moment, the pool remains available for more work',
      'Now the pool is closed and no longer available',
    ]);
  });

  it('mpWorkers.ts: Doc/includes/mp_workers.py', { timeout: 130_000 }, async () => {
    const out = await run('mpWorkers.ts');
    assert.match(out, /^Unordered results:\n/);
    const results = says(out);
    const expected = [...Array.from({ length: 20 }, (_, i) => ['mul', i, 7, i * 7]), ...Array.from({ length: 10 }, (_, i) => ['plus', i, 8, i + 8])];
    assert.deepEqual(results.slice(0, 20).sort(), expected.slice(0, 20).sort());
    assert.deepEqual(results.slice(20).sort(), expected.slice(20).sort());
  });

  for (const mode of ['processes', 'threads']) {
    it(`mpSynchronize.ts ${mode}: Doc/includes/mp_synchronize.py`, { timeout: 130_000 }, async () => {
      const out = await run('mpSynchronize.ts', [mode]);
      for (const name of ['testValue', 'testQueue', 'testCondition', 'testSemaphore', 'testJoinTimeout', 'testEvent', 'testSharedvalues'])
        assert.match(out, new RegExp(`######## ${name}\\n`));
      assert.match(out, /No more running processes/);
      const squares = out
        .match(/######## testQueue\n\n([\s\S]*?)\n\n\t######## testCondition/)![1]!
        .replace(/TIMEOUT\n/g, '')
        .trim()
        .split(' ');
      assert.deepEqual(squares, [...Array.from({ length: 30 }, (_, i) => String(i * i)), 'STOP']);
      assert.match(out, /main is waiting\n[\s\S]*child is notifying\nmain has woken up/);
      const running = [...out.matchAll(/^(\d+) tasks are running$/gm)].map((m) => Number(m[1]));
      assert.equal(running.length, 10);
      assert.ok(Math.max(...running) <= 3, 'the Semaphore(3) admits at most three at once');
      assert.equal((out.match(/is waiting/g) ?? []).length, 6); // 'main is waiting' (testCondition) and five event waiters
      assert.equal((out.match(/has woken up/g) ?? []).length, 6);
      assert.match(out, /Tests passed/);
    });
  }

  it('mpPool.ts: Doc/includes/mp_pool.py', { timeout: 130_000 }, async () => {
    const out = await run('mpPool.ts');
    const results = says(out);
    assert.equal(results.length, 20 * 4 + 1 + 20);
    for (const [func, a, b, r] of results) assert.equal(r, func === 'mul' ? a * b : a + b);
    for (const line of [
      'Got ZeroDivisionError as expected from pool.apply()',
      'Got ZeroDivisionError as expected from pool.map()',
      'Got ZeroDivisionError as expected from list(pool.imap())',
      'Got ZeroDivisionError as expected from IMapIterator.next()',
      'callbacks succeeded',
      'close() succeeded',
      'terminate() succeeded',
    ])
      assert.ok(out.includes(line), line);
  });

  it('listenerClient.ts: the Listener/Client example', { timeout: 130_000 }, async () => {
    const lines = (await run('listenerClient.ts')).trim().split('\n');
    assert.deepEqual(lines, ['connection accepted from a client', "[ 2.25, null, 'junk' ]", 'hello', '8', 'Int32Array(5) [ 42, 1729, 0, 0, 0 ]']);
  });
});
