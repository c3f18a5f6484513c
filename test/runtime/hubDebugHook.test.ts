// The preload's debugger hook in programs that do not use the runtime: with FORKSCOPE_DEBUG=1 every
// process opens a loopback inspector and is announced (once, with its URL) before it waits for a debugger.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Hub, type AnnouncedProcess } from '../../hub/hub';

describe('preload debugger hook', () => {
  it('announces every process of a plain fork program with its inspector URL before it waits', { timeout: 60_000 }, async () => {
    const hub = new Hub({ debug: true, sampleIntervalMs: false });
    const { env } = await hub.start();
    const announced: AnnouncedProcess[] = [];
    hub.onProcess((p) => announced.push(p));
    try {
      // No debugger attaches: the inspector's watchdog lets each process go after this long.
      const child = spawn(process.execPath, [join(__dirname, '..', 'fixtures', 'hub-fork-parent.js')], {
        env: { ...process.env, ...env, FORKSCOPE_DEBUG_WAIT_MS: '1000' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.resume();
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 0);
      assert.equal(stdout, 'all children done\n');
      assert.deepEqual(announced.map((p) => p.name).sort(), ['MainProcess', 'hub-fork-child.js', 'hub-fork-child.js'], 'each process announced once');
      for (const p of announced) assert.match(p.inspectorUrl ?? '', /^ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+$/);
      const children = announced.filter((p) => p.name === 'hub-fork-child.js');
      assert.ok(children.every((c) => c.parent === String(child.pid)));
      const s = hub.model.snapshot();
      assert.equal(s.processes.length, 3);
      assert.ok(s.processes.every((p) => p.inspectorUrl !== undefined));
    } finally {
      await hub.close();
    }
  });
});
