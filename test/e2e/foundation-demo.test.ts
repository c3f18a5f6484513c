// `npm run demo` (scripts/demo.mjs): serves a workbench on 127.0.0.1 with Forkscope installed and examples/
// open, shows the Forkscope view, and leaves nothing running after Ctrl+C.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allProcesses, killQuietly } from './processes';
import { buildVsix, openWorkbench, REPO_ROOT, waitFor, type Workbench } from './harness';

describe('npm run demo', { timeout: 420_000 }, () => {
  let demo: ChildProcess;
  let output = '';
  let url = '';
  let wb: Workbench | undefined;

  const serverPids = (port: string) => allProcesses().filter((p) => p.cmdline.includes(`127.0.0.1:${port}`));
  const demoDirs = () => new Set(readdirSync(tmpdir()).filter((d) => d.startsWith('forkscope-demo-')));
  let dirsBefore = new Set<string>();

  before(async () => {
    buildVsix();
    dirsBefore = demoDirs();
    // --no-build: `npm test` built already; FORKSCOPE_DEMO_PORT=0 takes any free port (8080 may be in use).
    demo = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'demo.mjs'), '--no-build'], {
      cwd: REPO_ROOT,
      env: { ...process.env, FORKSCOPE_DEMO_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout!.on('data', (d) => (output += d));
    demo.stderr!.on('data', (d) => (output += d));
    url = await waitFor(
      'the demo to print its URL',
      () => {
        if (demo.exitCode !== null) throw new Error(`demo exited early (${demo.exitCode}):\n${output}`);
        return /http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+/.exec(output)?.[0] ?? null;
      },
      240_000,
    );
  });

  after(async () => {
    await wb?.close();
    const port = url ? new URL(url).port : '';
    if (demo.exitCode === null) demo.kill('SIGKILL');
    // A demo killed hard cannot stop its server: end code-server's group here so nothing outlives the test.
    if (port) for (const p of serverPids(port)) killQuietly(-p.pgid, 'SIGKILL');
  });

  it('prints a loopback URL with examples/ as the folder', () => {
    const parsed = new URL(url);
    assert.equal(parsed.hostname, '127.0.0.1');
    assert.equal(parsed.searchParams.get('folder'), join(REPO_ROOT, 'examples'));
  });

  it('serves a workbench with the Forkscope view visible', async () => {
    wb = await openWorkbench({ url, workspace: join(REPO_ROOT, 'examples'), name: 'demo' });
    await wb.page.locator('.activitybar .action-item a[aria-label^="Forkscope"]').click();
    const frame = await wb.frameWith('.empty-state', 60_000);
    assert.equal(await frame.evaluate(() => document.querySelector('.empty-state h2')?.textContent ?? ''), 'No program running');
    await wb.screenshot('foundation-demo', { x: 0, y: 0, width: 1280, height: 720 });
    await wb.close();
    wb = undefined;
  });

  it('stops on Ctrl+C (SIGINT) and leaves no code-server behind', async () => {
    const port = new URL(url).port;
    assert.ok(serverPids(port).length > 0, 'code-server runs while the demo is up');
    demo.kill('SIGINT');
    await waitFor('the demo to exit', () => demo.exitCode !== null || demo.signalCode !== null, 20_000);
    assert.equal(demo.exitCode, 0);
    await waitFor(`no process serving port ${port}`, () => serverPids(port).length === 0, 10_000);
    assert.deepEqual(
      [...demoDirs()].filter((d) => !dirsBefore.has(d)),
      [],
      'the demo removes its temp folder',
    );
  });
});
