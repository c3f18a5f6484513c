// The process sampler against the real OS process list: CPU/memory per process, and descendants that
// do not report (not Node) attached under the process that started them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ProgramModel } from '../../hub/programModel';
import { ProcessSampler, sampleTree } from '../../hub/processSampler';

describe('ProcessSampler', () => {
  it('adds a shell and its sleep under this process, with CPU and memory', { timeout: 30_000 }, async () => {
    // Its own process group, so the cleanup ends the sleep too.
    const shell = spawn('sh', ['-c', 'sleep 20; true'], { stdio: 'ignore', detached: true });
    try {
      // The shell forks its sleep when the machine gets to it: look until it has (a loaded machine is slow).
      let samples = await sampleTree([process.pid]);
      for (let i = 0; i < 50 && !samples.some((s) => s.ppid === shell.pid && s.name === 'sleep'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        samples = await sampleTree([process.pid]);
      }
      const self = samples.find((s) => s.pid === process.pid);
      assert.ok(self && self.memory > 1024 * 1024, `this process is sampled with its memory (${self?.memory})`);
      const sh = samples.find((s) => s.pid === shell.pid);
      assert.ok(sh, 'the shell child is found');
      assert.ok(
        samples.some((s) => s.ppid === shell.pid && s.name === 'sleep'),
        'and its grandchild',
      );

      const model = new ProgramModel();
      model.hello(
        { t: 'hello', v: 1, token: 'x', pid: process.pid, ppid: process.ppid, threadId: 0, name: 'MainProcess', startMethod: 'spawn', role: 'main' },
        Date.now(),
      );
      await new ProcessSampler(model).sampleOnce();
      const s = model.snapshot();
      const main = s.processes.find((p) => p.pid === process.pid)!;
      assert.ok(main.memory !== undefined && main.cpu !== undefined);
      const shNode = s.processes.find((p) => p.pid === shell.pid)!;
      assert.deepEqual([shNode.parent, shNode.external], [String(process.pid), true]);
      assert.ok(s.processes.some((p) => p.name === 'sleep' && p.parent === String(shell.pid)));
    } finally {
      const exited = new Promise((r) => shell.once('exit', r));
      process.kill(-shell.pid!, 'SIGKILL');
      await exited;
    }
  });
});
