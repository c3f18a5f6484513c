// The queue, pipe, lock and event examples (seeds 000–003) run as users run them and print what their
// Python twins print; each under a hard deadline, leaving no process or socket directory behind.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { leftBehindIn, runProgram } from './runProgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runExample = (file: string, env: NodeJS.ProcessEnv = {}) => runProgram(join('examples', file), { env: { FORKSCOPE_IPC_DIR: '', ...env } });

/** Runs an example with its own TMPDIR, so what it leaves there is its own (other programs share /tmp). */
async function check(file: string, expect: (stdout: string) => void, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'examples-ipc-'));
  try {
    const { code, stdout, stderr } = await runExample(file, { ...env, TMPDIR: tmp });
    assert.equal(code, 0, stderr);
    expect(stdout);
    assert.deepEqual(leftBehindIn(tmp), [], 'no socket directory left behind');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

for (const mode of ['spawn', 'inline'] as const) {
  const env = mode === 'inline' ? { FORKSCOPE_SINGLE_PROCESS: '1' } : {};
  describe(`examples over queues, pipes and locks (${mode})`, () => {
    it('pipesample.ts: the child receives what was sent before it started (seed 000)', async () => {
      await check(
        'pipesample.ts',
        (out) => {
          const lines = out.trim().split('\n');
          assert.deepEqual(
            lines.filter((l) => l.startsWith('parent:')),
            ['parent:Send:42', 'parent:Send:some string', 'parent:Send:{"one":1}', 'parent:Send:{}', 'parent:Send:null'],
          );
          assert.deepEqual(
            lines.filter((l) => l.startsWith('Child:')),
            ['Child:Receive:42', 'Child:Receive:some string', 'Child:Receive:{"one":1}', 'Child:Receive:{}'],
          );
        },
        env,
      );
    });

    it('pipe_child.ts: the child sends [42, null, "hello"] and closes its end (seed 004)', async () => {
      await check('pipe_child.ts', (out) => assert.equal(out.trim(), "[ 42, null, 'hello' ]"), env);
    });

    it('lock_print.ts: ten processes print whole lines under one Lock (seed 001)', async () => {
      await check(
        'lock_print.ts',
        (out) => {
          const lines = out.trim().split('\n').sort();
          assert.deepEqual(lines, Array.from({ length: 10 }, (_, i) => `hello world ${i}`).sort());
        },
        env,
      );
    });

    it('producer_consumer.ts: every entry is consumed once, in order (seed 002)', async () => {
      await check(
        'producer_consumer.ts',
        (out) => {
          const exits = out
            .trim()
            .split('\n')
            .filter((l) => l.startsWith('Exit: '));
          const names = exits.map((l) => l.slice(6)).filter((n) => n !== 'xyz');
          assert.deepEqual(names, ['sudh', 'kumar', 'pwskills', 'krish', 'naik']);
          assert.equal(exits.length, 6);
        },
        env,
      );
    });

    it('pipe_sender_receiver.ts: four messages, then EOFError (seed 002)', async () => {
      await check(
        'pipe_sender_receiver.ts',
        (out) => {
          assert.deepEqual(
            out
              .trim()
              .split('\n')
              .map((l) => l.trim()),
            [
              'my name is sudh',
              'this is my msg to my students',
              'i am taking class for dsm',
              'try to practice all the code',
              'EOFError: the other end of the connection was closed',
            ],
          );
        },
        env,
      );
    });
  });
}

describe('calculate_e.ts (seed 003)', () => {
  it('a Process subclass spins on Event.isSet() and returns e through a SimpleQueue', async () => {
    // Not under inline: its run() is a synchronous loop, which in one thread never lets set() happen.
    await check('calculate_e.ts', (out) => assert.equal(Number(out.trim()).toFixed(12), Math.E.toFixed(12)));
  });
});
