// How the launcher finds tsx's loader and the program's own runtime preload (src/debug/nodeLauncher.ts): by
// Node's resolution from each folder in turn. Reads the file system only; needs `npm run build` for the preload.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRuntimePreload } from '../../src/debug/nodeLauncher';
import { findTsxLoader } from '../../hub/typeScriptOptions';

const ROOT = join(__dirname, '..', '..');

describe('launcher lookups', () => {
  const empty = mkdtempSync(join(tmpdir(), 'fs-lookup-'));
  after(() => rmSync(empty, { recursive: true, force: true }));

  it('finds tsx and the forkscope preload from the repository, after a folder that has neither', () => {
    assert.equal(findTsxLoader([empty, ROOT]), join(realpathSync(join(ROOT, 'node_modules', 'tsx')), 'dist', 'loader.mjs'));
    assert.equal(findRuntimePreload([empty, join(ROOT, 'examples')]), join(ROOT, 'runtime', 'dist', 'preload.cjs'));
  });

  it('finds nothing where neither is installed', () => {
    assert.equal(findTsxLoader([empty]), undefined);
    assert.equal(findRuntimePreload([empty]), undefined);
  });
});
