// `npm run package`: builds the bundles and packs `forkscope-<version>.vsix` with @vscode/vsce, offline.
// What goes in is decided by `.vscodeignore` (an allowlist); `--no-build` packs the dist/ already there.
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version, name } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? process.argv[outArg + 1] : join(root, `${name}-${version}.vsix`);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// What ships is the minified build (about half the size, faster to activate); `--dev` packs the readable one.
if (!process.argv.includes('--no-build')) run(process.execPath, ['esbuild.mjs', ...(process.argv.includes('--dev') ? [] : ['--production'])]);
// --no-dependencies: everything is bundled, and it keeps vsce from running `npm list` (offline, workspaces).
// --no-rewrite-relative-links: README's images live in media/, which ships in the .vsix, so relative links work.
// Written aside and renamed: several test runs may pack at once, and none may read a half-written .vsix.
const partial = `${out}.${process.pid}.partial.vsix`;
run(process.execPath, [
  join(root, 'node_modules', '@vscode', 'vsce', 'vsce'),
  'package',
  '--no-dependencies',
  '--allow-missing-repository',
  '--no-rewrite-relative-links',
  '--out',
  partial,
]);
renameSync(partial, out);
console.log(`packaged ${relative(process.cwd(), out) || out}: ${(statSync(out).size / 1024).toFixed(1)} KiB`);
