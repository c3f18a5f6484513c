#!/usr/bin/env node
// Builds the committed prebuilds of the shared-memory binding (native/prebuilds/<platform>-<arch>/
// forkscope_shm.napi.node) from shm.c, reproducibly: same sources, headers and compilers give the
// same bytes. Node-API version 8, so one build per platform serves every Node >= 20.
//   node runtime/native/prebuild.mjs [linux-x64 linux-arm64 darwin-x64 darwin-arm64] [--headers DIR]
// Needs Debian's gcc, g++-aarch64-linux-gnu, clang and lld. Darwin is built without the macOS SDK:
// shm.c uses only Node-API and five libSystem calls, declared in darwin_sys.h with macOS's ABI values.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'shm.c');
const name = 'forkscope_shm';
const common = ['-O2', '-fPIC', '-fvisibility=hidden', '-Wall', '-Wextra', '-Werror', `-DNODE_GYP_MODULE_NAME=${name}`, `-ffile-prefix-map=${here}=.`];

/** Node-API's headers: --headers DIR, else those of the Node running this script. */
function headersDir(argv) {
  const i = argv.indexOf('--headers');
  const candidates = [i >= 0 ? argv[i + 1] : undefined, join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'];
  const found = candidates.find((dir) => dir && existsSync(join(dir, 'node_api.h')));
  if (!found) throw new Error('Node-API headers not found: pass --headers <dir containing node_api.h>');
  return found;
}

/** The first of `names` found on PATH (Debian names LLVM's tools with their version). */
function tool(...names) {
  return names.find((n) => spawnSync('sh', ['-c', `command -v ${n}`], { stdio: 'ignore' }).status === 0) ?? names[0];
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (install it: see the header of prebuild.mjs)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

/** Linux: a shared object with only libc and Node-API undefined; stripped, no build id. */
function linux(cc) {
  return (out, headers) => run(cc, [...common, '-std=c11', '-shared', `-I${headers}`, '-s', '-Wl,--build-id=none', '-Wl,--hash-style=both', '-o', out, source]);
}

/** Darwin: clang for the Mach-O object, ld64.lld for a bundle whose libc calls bind to libSystem
 * (libSystem.tbd: a text stub naming the eight symbols used, as the SDK's own stub does) and whose
 * Node-API calls bind at load time (-undefined dynamic_lookup, as node-gyp links addons on macOS).
 * lld signs arm64 output ad hoc, which arm64 macOS requires, so nothing strips it afterwards. */
function darwin(arch) {
  // Node 20 runs on macOS 10.15 (x64) and 11 (arm64, the first macOS on Apple silicon).
  const minimum = arch === 'x64' ? '10.15' : '11.0';
  const triple = `${arch === 'x64' ? 'x86_64' : 'arm64'}-apple-macos${minimum}`;
  return (out, headers) => {
    const dir = mkdtempSync(join(tmpdir(), 'forkscope-prebuild-'));
    try {
      const object = join(dir, 'shm.o');
      run(tool('clang', 'clang-19', 'clang-16', 'clang-14'), [...common, '-std=c11', `--target=${triple}`, '-ffreestanding', '-DFORKSCOPE_NO_SDK', `-I${headers}`, '-c', '-o', object, source]);
      run(tool('ld64.lld', 'ld64.lld-19', 'ld64.lld-16', 'ld64.lld-14'), ['-arch', arch === 'x64' ? 'x86_64' : 'arm64', '-platform_version', 'macos', minimum, minimum, '-bundle', '-undefined', 'dynamic_lookup', '-S', '-o', out, object, join(here, 'libSystem.tbd')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const targets = {
  'linux-x64': linux(process.arch === 'x64' ? 'gcc' : 'x86_64-linux-gnu-gcc'),
  'linux-arm64': linux(process.arch === 'arm64' ? 'gcc' : 'aarch64-linux-gnu-gcc'),
  'darwin-x64': darwin('x64'),
  'darwin-arm64': darwin('arm64'),
};

const argv = process.argv.slice(2);
const wanted = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--headers');
const headers = headersDir(argv);
for (const tag of wanted.length > 0 ? wanted : Object.keys(targets)) {
  const build = targets[tag];
  if (!build) throw new Error(`unknown target ${tag}; known: ${Object.keys(targets).join(', ')}`);
  const out = join(here, 'prebuilds', tag, `${name}.napi.node`);
  mkdirSync(dirname(out), { recursive: true });
  build(out, headers);
  const sha = createHash('sha256').update(readFileSync(out)).digest('hex').slice(0, 16);
  console.log(`${tag}: ${out} (${statSync(out).size} bytes, sha256 ${sha}…)`);
}
