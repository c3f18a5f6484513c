// getContext/setStartMethod, FORKSCOPE_SINGLE_PROCESS=1 (everything inline) and logToStderr, in a real program.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getContext, isMainProcess } from 'forkscope';
import { runProgram } from './runProgram';
import { startMethods, writeStartMethods } from '../fixtures/pool-tasks';

const run = (env: NodeJS.ProcessEnv) => runProgram('test/fixtures/runtime-context.ts', { env, deadlineMs: 90_000 });

// Children re-import this file as their main module: tests register in the main process only.
if (isMainProcess())
  describe('contexts and start methods', { timeout: 200_000 }, () => {
    it('getContext(method) binds Process; setStartMethod twice is a RuntimeError; the logger names the process', async () => {
      const { code, stdout, stderr } = await run({});
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^method=spawn$/m);
      assert.match(stdout, /^ctx=thread$/m);
      assert.match(stdout, /^ctx-thread pid-same=true name=Process-1$/m);
      assert.match(stdout, /^again: RuntimeError: context has already been set$/m);
      assert.match(stdout, /^default pid-same=false name=Process-2$/m);
      assert.match(stdout, /^pool=1,4,9$/m);
    });

    it('FORKSCOPE_SINGLE_PROCESS=1 runs every process and pool in-process with the same output', async () => {
      const { code, stdout, stderr } = await run({ FORKSCOPE_SINGLE_PROCESS: '1' });
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^method=inline$/m);
      assert.match(stdout, /^default pid-same=true name=Process-2$/m);
      assert.match(stdout, /^pool=1,4,9$/m);
      assert.match(stderr, /\[INFO\/Process-2 pid \d+\] logged from default/);
    });
  });

if (isMainProcess()) {
  for (const method of ['spawn', 'thread', 'forkserver'] as const) {
    describe(`the start method is inherited (${method})`, { timeout: 120_000 }, () => {
      it('a pool worker and a Process of getContext(method) report it, and their own children use it', async () => {
        const ctx = getContext(method);
        await using pool = new ctx.Pool({ processes: 1 });
        assert.deepEqual(await pool.apply(startMethods, []), { mine: method, child: method });
        const dir = mkdtempSync(join(tmpdir(), 'forkscope-context-'));
        try {
          const file = join(dir, 'methods.json');
          const p = new ctx.Process({ target: writeStartMethods, args: [file] });
          p.start();
          await p.join({ timeout: 60_000 });
          assert.equal(p.exitCode, 0);
          assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { mine: method, child: method });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }
}
