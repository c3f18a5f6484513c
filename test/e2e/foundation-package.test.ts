// `npm run package` (scripts/package.mjs): the .vsix holds only bundles (and the hub's preload), media, README,
// LICENSE, CHANGELOG.
// Runs the real packager (vsce, offline) into a temp folder; needs `npm run build` first.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from './harness';
import { listZip, type ZipEntry } from './zip';

/** What may ship: the manifest files vsce writes, and under extension/ only the allowlist of .vscodeignore. */
const ALLOWED = [
  /^\[Content_Types\]\.xml$/,
  /^extension\.vsixmanifest$/,
  /^extension\/package\.json$/,
  /^extension\/readme\.md$/,
  /^extension\/changelog\.md$/,
  /^extension\/LICENSE\.txt$/,
  /^extension\/dist\/[\w.-]+\.js$/,
  // The hub's preload, for programs without a `forkscope` package of their own (not the runtime itself).
  /^extension\/runtime\/dist\/preload\.cjs$/,
  /^extension\/dist\/codicons\/codicon\.(css|ttf)$/,
  /^extension\/media\/[\w./-]+\.(svg|png|css)$/,
];

export function unexpectedEntries(entries: ZipEntry[]): string[] {
  return entries.map((e) => e.name).filter((name) => !ALLOWED.some((re) => re.test(name)) || name.endsWith('.map'));
}

describe('npm run package', { timeout: 180_000 }, () => {
  let dir: string;
  let vsix: string;
  let entries: ZipEntry[];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'forkscope-vsix-'));
    vsix = join(dir, 'forkscope.vsix');
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'package.mjs'), '--no-build', '--out', vsix], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 150_000,
    });
    assert.equal(r.status, 0, `package.mjs failed:\n${r.stdout}\n${r.stderr}`);
    entries = listZip(vsix);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the allowlist rejects what must not ship (negative case)', () => {
    const bad = [
      'extension/src/extension.ts',
      'extension/dist/extension.js.map',
      'extension/node_modules/x/index.js',
      'extension/runtime/dist/index.cjs',
      'extension/test/e2e/harness.ts',
    ];
    assert.deepEqual(unexpectedEntries(bad.map((name) => ({ name, size: 1, compressedSize: 1 }))), bad);
  });

  it('contains only bundles, media, README, LICENSE and CHANGELOG', () => {
    assert.deepEqual(unexpectedEntries(entries), []);
  });

  it('contains every bundle the manifest needs', () => {
    const names = new Set(entries.map((e) => e.name));
    for (const required of [
      'extension/package.json',
      'extension/dist/extension.js',
      'extension/dist/server.js',
      'extension/dist/webview.js',
      'extension/media/forkscope.svg',
      'extension/runtime/dist/preload.cjs',
      'extension/readme.md',
      'extension/LICENSE.txt',
      'extension/changelog.md',
    ]) {
      assert.ok(names.has(required), `${required} missing from the .vsix`);
    }
  });

  it('reports its size', () => {
    const size = statSync(vsix).size;
    const unpacked = entries.reduce((sum, e) => sum + e.size, 0);
    console.log(`vsix: ${(size / 1024).toFixed(1)} KiB packed, ${(unpacked / 1024).toFixed(1)} KiB unpacked, ${entries.length} entries`);
    assert.ok(size > 10_000 && size < 20 * 1024 * 1024, `implausible .vsix size ${size}`);
  });
});
