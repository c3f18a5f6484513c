// getContext/setStartMethod, FORKSCOPE_SINGLE_PROCESS=1 (everything inline) and logToStderr, in a real program.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runProgram } from './runProgram';

const run = (env: NodeJS.ProcessEnv) => runProgram('test/fixtures/runtime-context.ts', { env, deadlineMs: 90_000 });

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
