// A child compiles the runtime bundle from V8's code cache (runtime/src/loader/codeCache.ts): the first child writes
// it, later children read it, one V8 rejects is rewritten, and a folder another user could write is never used.
// Every start kind must behave as before: a spawned child, a worker thread, an ES module target (the bundle's import()).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram, REPO_ROOT } from './runProgram';

const FIXTURE = join(REPO_ROOT, 'test/fixtures/code-cache.cjs');
const EXPECTED = 'values=7,8,9 exits=0,0,0';
/** Node ≥ 22.1 keeps the cache itself (module.enableCompileCache), in a layout of its own. */
const NODE_CACHES = typeof (require('node:module') as { enableCompileCache?: unknown }).enableCompileCache === 'function';

/** The fixture with its own temp folder, so the cache it uses is this test's alone. */
async function runWithTemp(temp: string): Promise<void> {
  const { code, stdout, stderr } = await runProgram(FIXTURE, { nodeArgs: [FIXTURE], env: { TMPDIR: temp, NODE_OPTIONS: '' }, deadlineMs: 90_000 });
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), EXPECTED, stderr);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

describe('the runtime bundle in a child, from V8 code cache', { timeout: 240_000 }, () => {
  const cacheOf = (temp: string): string => join(temp, `forkscope-v8-${process.getuid?.() ?? 'user'}`);

  it('the first child writes the cache and later children read it; an entry V8 rejects is rewritten', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'forkscope-code-cache-'));
    try {
      await runWithTemp(temp);
      const written = filesUnder(cacheOf(temp));
      assert.ok(written.length > 0, 'no code cache written');
      if (!NODE_CACHES) {
        // Node 20's path is ours: garbage in the entry is read, rejected by V8, and replaced by the child that read it.
        for (const file of written) writeFileSync(file, 'not V8 cached data');
        await runWithTemp(temp);
        for (const file of written) assert.notEqual(readFileSync(file, 'utf8'), 'not V8 cached data', `${file} was not read and rewritten`);
      }
      await runWithTemp(temp);
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it('a cache folder that others can write is never used', { skip: typeof process.getuid !== 'function' }, async () => {
    const temp = mkdtempSync(join(tmpdir(), 'forkscope-code-cache-'));
    try {
      mkdirSync(cacheOf(temp));
      chmodSync(cacheOf(temp), 0o777);
      await runWithTemp(temp);
      assert.deepEqual(filesUnder(cacheOf(temp)), []);
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });
});
