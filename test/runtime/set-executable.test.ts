// setExecutable() (Python's set_executable): spawn and forkserver children run the Node executable it names.
// Children re-import this file as their main module: tests register in the main process only.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipe, Process, isMainProcess, setExecutable, type Connection } from 'forkscope';

/** Reports what the wrapper executable set in the child's environment. */
export async function reportWrapped(conn: Connection): Promise<void> {
  await conn.send(process.env.FORKSCOPE_TEST_WRAPPED ?? 'not wrapped');
  conn.close();
}

if (isMainProcess()) {
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-executable-'));
  after(() => {
    setExecutable(undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('setExecutable()', { timeout: 120_000, skip: process.platform === 'win32' && 'the wrapper executable is a POSIX shell script' }, () => {
    it('a spawned child runs the executable it names; undefined restores this Node; a non-path is a TypeError', async () => {
      assert.throws(() => setExecutable(42 as never), { name: 'TypeError', message: /path of a Node executable/ });
      assert.throws(() => setExecutable(''), TypeError);
      const wrapper = join(dir, 'node-wrapper.sh');
      writeFileSync(wrapper, `#!/bin/sh\nFORKSCOPE_TEST_WRAPPED=yes exec ${JSON.stringify(process.execPath)} "$@"\n`);
      chmodSync(wrapper, 0o755);
      for (const [executable, expected] of [
        [wrapper, 'yes'],
        [undefined, 'not wrapped'],
      ] as const) {
        setExecutable(executable);
        const [reader, writer] = Pipe({ duplex: false });
        const p = new Process({ target: reportWrapped, args: [writer], startMethod: 'spawn' });
        p.start();
        writer.close();
        assert.equal(await reader.recv(), expected);
        await p.join();
        assert.equal(p.exitCode, 0);
      }
    });
  });
}
