// The runtime package as users see it: its types and its ES module face carry the public API only (no `_runChild`,
// no `_serveManager`, nothing marked @internal), and `version` is the one in its package.json. Reads the build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dist = join(__dirname, '..', '..', 'runtime', 'dist');

test('the published types hold no internals', () => {
  const types = join(dist, 'types');
  const index = readFileSync(join(types, 'index.d.ts'), 'utf8');
  assert.doesNotMatch(index, /_runChild|_serveManager/);
  for (const file of readdirSync(types).filter((f) => f.endsWith('.d.ts'))) {
    assert.doesNotMatch(readFileSync(join(types, file), 'utf8'), /@internal/, `${file} keeps an @internal member`);
  }
});

test('the ES module face exports no underscore names', () => {
  const esm = readFileSync(join(dist, 'index.mjs'), 'utf8');
  assert.doesNotMatch(esm, /\b_\w+/);
});

test('version is the package.json version', () => {
  const { version } = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string };
  assert.equal((require(join(dist, 'index.cjs')) as { version: string }).version, version);
});
