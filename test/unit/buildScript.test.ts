// esbuild.mjs refuses a tree with a missing entry point: it names the file, exits non-zero and writes nothing,
// instead of skipping that part and calling the build good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

test('a missing entry point fails the build and names the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-build-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A tree with every entry but the webview's.
  cpSync(join(root, 'esbuild.mjs'), join(dir, 'esbuild.mjs'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const part of ['src', 'server', 'runtime'])
    cpSync(join(root, part), join(dir, part), { recursive: true, filter: (p) => !p.includes('node_modules') && !p.endsWith('/dist') });

  const run = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: dir, encoding: 'utf8' });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /entry points not found: webview\/main\.ts \(webview\)/);
  assert.equal(existsSync(join(dir, 'dist')), false, 'nothing is written');
  assert.equal(existsSync(join(dir, 'runtime', 'dist')), false, 'nothing is written');
});
