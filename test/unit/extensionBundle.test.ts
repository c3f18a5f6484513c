// The extension talks to the runtime through its contract only: bundling src/extension.ts pulls in
// runtime/src/protocol.ts and no runtime implementation file (telemetry, the inspector, the broker…), which would
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
  assert.deepEqual(runtimeFiles, ['runtime/src/protocol.ts']);
});
