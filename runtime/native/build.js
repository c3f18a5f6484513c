// The runtime's install script (`npm ci` runs it): uses the prebuild for this platform when it
// loads, else builds the binding from source with node-gyp. Never fails the install: without any
// binding the runtime still loads and says once, on stderr, what it falls back to.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

if (process.platform === 'win32') process.exit(0);

const ABI = 2;
const prebuild = join(__dirname, 'prebuilds', `${process.platform}-${process.arch}`, 'forkscope_shm.napi.node');
if (process.env.FORKSCOPE_BUILD_FROM_SOURCE !== '1' && existsSync(prebuild)) {
  try {
    if (require(prebuild).abi === ABI) process.exit(0);
  } catch (error) {
    console.warn(`forkscope: the prebuilt binding did not load (${error.message}); building from source`);
  }
}

function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {}
  const npmDir = join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  candidates.push(npmDir);
  return candidates.find((p) => p && existsSync(p));
}

const gyp = nodeGyp();
const args = ['rebuild', '--directory', __dirname];
// npm 11 no longer exports unknown user config such as `nodedir` to scripts: pass local headers on.
const headers = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node.h') && process.execPath.startsWith('/usr/') ? '/usr' : undefined);
if (headers) args.push(`--nodedir=${headers}`);
const result = gyp ? spawnSync(process.execPath, [gyp, ...args], { stdio: ['ignore', 'ignore', 'pipe'] }) : undefined;
if (!result || result.status !== 0) {
  const why = !gyp ? 'node-gyp was not found' : String(result.stderr || '').trim().split('\n').slice(-3).join('\n');
  console.warn(`forkscope: no prebuilt binding for ${process.platform}-${process.arch} and none could be built; Value/Array/SharedMemory will be shared with worker threads only.\n${why}`);
} else {
  console.log('forkscope: built the shared-memory binding');
}
