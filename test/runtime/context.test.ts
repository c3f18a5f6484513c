// getContext/setStartMethod, FORKSCOPE_SINGLE_PROCESS=1 (everything inline) and logToStderr, in a real program.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/runtime-context.ts')], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      reject(new Error(`timed out\n${stdout}\n${stderr}`));
    }, 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

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
