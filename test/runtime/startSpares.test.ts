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
import { runProgram } from './runProgram';

if (isMainProcess()) describe('spawn spares', { timeout: 120_000 }, () => {
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
