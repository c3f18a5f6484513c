// `npm run demo`: builds and packs Forkscope, then serves a real VS Code (code-server) on 127.0.0.1 with it
// installed and examples/ open, until Ctrl+C. Plain Node; the environment comes from scripts/e2e-env.mjs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureE2EEnvironment, installExtension, spawnCodeServer, waitForHealthz } from './e2e-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { name, version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const vsix = join(root, `${name}-${version}.vsix`);
const folder = join(root, 'examples');
const skipBuild = process.argv.includes('--no-build');

function step(title, cmd, args) {
  console.log(`\n> ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo: ${title} failed (${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

/** FORKSCOPE_DEMO_PORT, else 8080 when free, else any free port. */
async function pickPort() {
  const tryPort = (port) =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(null));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(address.port));
      });
    });
  const wanted = Number(process.env.FORKSCOPE_DEMO_PORT || 8080);
  return (await tryPort(wanted)) ?? (await tryPort(0));
}

function hasCodeCli() {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => spawnSync(join(dir, 'code'), ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0);
}

if (!skipBuild) {
  // The runtime's .d.ts step belongs to `npm run build` too, but the demo only needs the bundles.
  step('build (esbuild: extension, language server, webview, runtime)', process.execPath, ['esbuild.mjs']);
  step('package the .vsix', process.execPath, ['scripts/package.mjs', '--no-build']);
}

console.log('\n> the environment (code-server, Node 24, Chromium; cached after the first time)');
const env = ensureE2EEnvironment();

const temp = mkdtempSync(join(tmpdir(), 'forkscope-demo-'));
const userDataDir = join(temp, 'user-data');
const extensionsDir = join(temp, 'extensions');
mkdirSync(join(userDataDir, 'User'), { recursive: true });
writeFileSync(
  join(userDataDir, 'User', 'settings.json'),
  JSON.stringify(
    {
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoUpdate': false,
      'git.openRepositoryInParentFolders': 'never',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.disableAIFeatures': true,
    },
    null,
    2,
  ),
);
installExtension(env, { userDataDir, extensionsDir, vsix });

const port = await pickPort();
const child = spawnCodeServer(env, { userDataDir, extensionsDir, port, folder });
child.stdout.resume();
child.stderr.on('data', (chunk) => {
  if (process.env.FORKSCOPE_DEMO_VERBOSE) process.stderr.write(chunk);
});

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal); // code-server leads its own process group
    } catch {}
  };
  const finish = () => {
    signalGroup('SIGKILL'); // whatever code-server started and left behind
    rmSync(temp, { recursive: true, force: true });
    process.exit(code);
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(finish, 1500);
  child.once('exit', () => {
    clearTimeout(timer);
    finish();
  });
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('SIGHUP', () => stop(0));
child.once('exit', (code, signal) => {
  if (!stopping) {
    console.error(`demo: code-server exited (${code ?? signal}); run with FORKSCOPE_DEMO_VERBOSE=1 to see its log`);
    stop(1);
  }
});

try {
  await waitForHealthz(port, child);
} catch (error) {
  console.error(`demo: ${error.message}`);
  stop(1);
}

const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`;
console.log(`\nForkscope is running in VS Code (code-server) at:\n\n  ${url}\n`);
console.log('Open an example, then press F5 (or run "Forkscope: Launch Active File"). The Forkscope view is in the activity bar.');
if (hasCodeCli()) console.log(`A desktop VS Code is on PATH too: code --install-extension ${vsix}`);
console.log('Press Ctrl+C to stop.');
