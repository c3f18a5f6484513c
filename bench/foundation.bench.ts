// Bundle sizes, .vsix size and extension activation time (measured in the e2e harness's real workbench),
// each printed beside a peer measured in the same run. Needs `npm run build` first.
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { buildVsix, ensureE2EEnvironment, REPO_ROOT, startWorkbench } from '../test/e2e/harness';

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function size(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  return s.isDirectory() ? readdirSync(path).reduce((sum, f) => sum + size(join(path, f)), 0) : s.size;
}

function jsSize(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((sum, f) => {
    const p = join(dir, f);
    return sum + (statSync(p).isDirectory() ? jsSize(p) : /\.(c|m)?js$/.test(f) ? statSync(p).size : 0);
  }, 0);
}

function row(label: string, ours: number, peerLabel: string, peer: number, unit: (n: number) => string): void {
  const ratio = peer > 0 ? `${(ours / peer).toFixed(2)}×` : 'n/a';
  console.log(`${label.padEnd(34)} ${unit(ours).padStart(12)}   ${peerLabel.padEnd(38)} ${unit(peer).padStart(12)}   ratio ${ratio}`);
}

export default async function foundationBench(): Promise<void> {
  const env = ensureE2EEnvironment();
  const vsix = buildVsix();
  // Peers: the JavaScript debugger bundled with the same code-server (the closest extension of our kind)
  // and the pool libraries users would otherwise pick.
  const builtins = join(dirname(env.codeServerEntry), '..', '..', 'lib', 'vscode', 'extensions');
  const jsDebug = readdirSync(builtins).find((d) => d.startsWith('ms-vscode.js-debug') && !d.includes('companion'));
  const jsDebugMain = jsDebug ? join(builtins, jsDebug, 'src', 'extension.js') : '';
  const nm = (pkg: string) => join(REPO_ROOT, 'node_modules', pkg);

  console.log('bundle sizes (bytes on disk)');
  row('dist/extension.js', size(join(REPO_ROOT, 'dist', 'extension.js')), `js-debug src/extension.js`, size(jsDebugMain), kib);
  row('dist/server.js', size(join(REPO_ROOT, 'dist', 'server.js')), 'typescript/lib/typescript.js', size(join(nm('typescript'), 'lib', 'typescript.js')), kib);
  row(
    'dist/webview.js',
    size(join(REPO_ROOT, 'dist', 'webview.js')),
    'js-debug src/diagnosticTool.js (webview)',
    jsDebug ? size(join(builtins, jsDebug, 'src', 'diagnosticTool.js')) : 0,
    kib,
  );
  row('runtime/dist (all .cjs/.mjs)', jsSize(join(REPO_ROOT, 'runtime', 'dist')), 'piscina/dist (all .js)', jsSize(join(nm('piscina'), 'dist')), kib);
  row('runtime/dist (all .cjs/.mjs)', jsSize(join(REPO_ROOT, 'runtime', 'dist')), 'tinypool/dist (all .js)', jsSize(join(nm('tinypool'), 'dist')), kib);
  row('runtime/dist (all .cjs/.mjs)', jsSize(join(REPO_ROOT, 'runtime', 'dist')), 'workerpool/dist (all .js)', jsSize(join(nm('workerpool'), 'dist')), kib);
  row('forkscope .vsix', size(vsix), jsDebug ? `${jsDebug} (unpacked)` : 'js-debug (missing)', jsDebug ? size(join(builtins, jsDebug)) : 0, kib);

  // What `node esbuild.mjs --production` would ship: the same entries minified, measured in memory.
  console.log('\nminified (as --production builds them), measured in memory');
  const minified = async (entry: string, platform: 'node' | 'browser', external: string[] = []) => {
    const r = await build({
      entryPoints: [join(REPO_ROOT, entry)],
      bundle: true,
      minify: true,
      write: false,
      platform,
      format: platform === 'node' ? 'cjs' : 'iife',
      external,
      logLevel: 'silent',
      outfile: 'out.js',
    });
    return r.outputFiles.reduce((sum, f) => sum + f.contents.length, 0);
  };
  row(
    'extension (minified)',
    await minified('src/extension.ts', 'node', ['vscode']),
    'dist/extension.js (dev build)',
    size(join(REPO_ROOT, 'dist', 'extension.js')),
    kib,
  );
  row('server (minified)', await minified('server/src/server.ts', 'node'), 'dist/server.js (dev build)', size(join(REPO_ROOT, 'dist', 'server.js')), kib);
  row('webview (minified)', await minified('webview/main.ts', 'browser'), 'dist/webview.js (dev build)', size(join(REPO_ROOT, 'dist', 'webview.js')), kib);

  // Activation: VS Code's own figure ("Developer: Show Running Extensions"), beside the built-in extensions
  // activated in the same workbench, the same second, on the same busy machine.
  const workspace = mkdtempSync(join(tmpdir(), 'forkscope-ws-bench-'));
  cpSync(join(REPO_ROOT, 'test', 'fixtures', 'workspace-basic'), workspace, { recursive: true });
  let wb: Awaited<ReturnType<typeof startWorkbench>> | undefined;
  try {
    wb = await startWorkbench({ workspace, name: 'bench-activation', vsix });
    await wb.page.locator('.activitybar .action-item a[aria-label^="Forkscope"]').click();
    await wb.frameWith('.empty-state', 60_000);
    await wb.openFile('main.ts'); // activates the TypeScript language features, a peer of similar weight
    await wb.page.waitForTimeout(3_000);
    const times = await wb.activationTimes();
    const ours = [...times].find(([id]) => /forkscope/i.test(id))?.[1] ?? NaN;
    const peers = [...times].filter(([id]) => !/forkscope/i.test(id));
    const ms = (n: number) => `${n.toFixed(0)} ms`;
    console.log('\nextension activation (VS Code Running Extensions, same workbench)');
    for (const [id, t] of peers.sort((a, b) => b[1] - a[1]).slice(0, 5)) row('Forkscope', ours, id, t, ms);
    const sorted = peers.map(([, t]) => t).sort((a, b) => a - b);
    if (sorted.length) row('Forkscope', ours, `median of ${sorted.length} built-ins`, sorted[Math.floor(sorted.length / 2)]!, ms);
  } finally {
    await wb?.close();
    rmSync(workspace, { recursive: true, force: true });
  }
}
