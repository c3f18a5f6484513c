// "spawn" keeps warm spares (popen.ts): booted Node processes with the runtime loaded, waiting for a payload.
// What a child sees must not change: it imports the main module only once used, a spare never used runs
// none of the program, and a child started after the program changed its environment or directory sees
// the new ones. The program exits at once with its spares still warm.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainProcess } from 'forkscope';
import { REPO_ROOT, runProgram } from './runProgram';

if (isMainProcess())
  describe('spawn spares', { timeout: 120_000 }, () => {
    it('a spare runs nothing of the program until used, and a start after env/cwd changes sees them', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'forkscope-spares-test-'));
      const log = join(dir, 'log.txt');
      try {
        const { code, stdout, stderr } = await runProgram('test/fixtures/start-spares.ts', { env: { SPARES_LOG: log }, deadlineMs: 90_000 });
        assert.equal(code, 0, stderr);
        const cwd = /^cwd=(.*)$/m.exec(stdout)?.[1];
        assert.ok(cwd, stdout);
        const lines = readFileSync(log, 'utf8').trim().split('\n');
        const runs = lines.filter((l) => !l.startsWith('import '));
        const imports = lines.filter((l) => l.startsWith('import '));
        assert.equal(runs.length, 8, lines.join('\n'));
        // One import per child that ran, in that child: spares never used imported nothing.
        assert.deepEqual(imports.map((l) => l.split(' ')[1]).sort(), runs.map((l) => l.split(' ').pop()).sort());
        for (const run of runs.filter((l) => !l.startsWith('after '))) assert.match(run, / - /);
        const after = runs.find((l) => l.startsWith('after '));
        assert.equal(after, `after changed ${cwd} ${after!.split(' ').pop()}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

if (isMainProcess())
  describe('forkserver standbys', { timeout: 150_000 }, () => {
    it('end once the program has started nothing for the idle period (10 s): none kept while idle', async () => {
      const { code, stdout, stderr } = await runProgram('test/fixtures/forkserver-idle.cjs', {
        nodeArgs: [join(REPO_ROOT, 'test/fixtures/forkserver-idle.cjs')],
        deadlineMs: 100_000,
      });
      assert.equal(code, 0, stderr);
      const samples = [...stdout.matchAll(/^t=(\d+) left=(\d+)$/gm)].map((m) => ({ t: Number(m[1]), left: Number(m[2]) }));
      assert.ok(samples.length > 0, stdout);
      // Standbys were warm right after the last start (else the check below proves nothing)…
      assert.ok(samples[0]!.left > 0, stdout);
      // …and all were gone 10 s after it (the idle period), with room for a loaded machine's late timer.
      const last = samples.at(-1)!;
      assert.equal(last.left, 0, `children left ${last.t} ms after the last start:\n${stdout}`);
      assert.ok(last.t < 16_000, `the last standby ended ${last.t} ms after the last start (idle period 10 s):\n${stdout}`);
    });
  });
