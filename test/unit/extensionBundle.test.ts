// The extension talks to the runtime through its contract only: bundling src/extension.ts pulls in
// runtime/src/protocol.ts (with the wire's pure codecs, framing.ts and safeJson.ts) and no runtime implementation file (telemetry, the inspector, the broker…), which would
// run the runtime's module-level code in the extension host and couple the two products.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

test('the extension bundle holds no runtime implementation file', async () => {
  const result = await build({
    entryPoints: [join(root, 'src', 'extension.ts')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const runtimeFiles = Object.keys(result.metafile.inputs).filter((file) => file.startsWith('runtime/'));
  // The contract and the wire's two pure codecs, which the hub (bundled here) shares with the runtime: framing.ts
  // and safeJson.ts hold functions and constants only, no module-level code, and import nothing but protocol.ts.
  assert.deepEqual(runtimeFiles.sort(), ['runtime/src/framing.ts', 'runtime/src/protocol.ts', 'runtime/src/safeJson.ts']);
  for (const file of ['runtime/src/framing.ts', 'runtime/src/safeJson.ts']) {
    const imports = result.metafile.inputs[file]!.imports.map((i) => i.path);
    assert.ok(
      imports.every((path) => path === 'runtime/src/protocol.ts'),
      `${file} imports ${imports.join(', ')}`,
    );
  }
});
