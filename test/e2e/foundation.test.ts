// The built .vsix in a real VS Code (code-server) in real Chromium: installs, activates, shows its view,
// offers its launch configuration. Depends on test/e2e/harness.ts only; screenshots go to test-results/.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, waitFor, workbenchSuite } from './harness';

const EMPTY_STATE = 'No program running';

describe('Forkscope extension in code-server', { timeout: 600_000 }, () => {
  // Nothing the workbench started may outlive it.
  const suite = workbenchSuite({ name: 'foundation', leftovers: 'fail', workspace: { copy: join(REPO_ROOT, 'test', 'fixtures', 'workspace-basic') } });
  const wb = () => suite.wb;

  it('shows the Forkscope view container and renders the webview empty state inside its iframe', async () => {
    const page = wb().page;
    await page.locator('.activitybar .action-item a[aria-label^="Forkscope"]').click();
    const frame = await wb().frameWith('.empty-state', 60_000);
    const text = await frame.evaluate(() => document.querySelector('.empty-state h2')?.textContent ?? '');
    assert.equal(text, EMPTY_STATE);
    // Theme-aware: the view's styles come from VS Code's CSS variables, so a real colour is computed.
    const color = await frame.evaluate(() => getComputedStyle(document.body).color);
    assert.match(color, /^rgb/);
    await wb().screenshot('foundation-view');
  });

  it('shows the view beside a program (the README screenshot: test-results/foundation-readme.png)', async () => {
    await wb().openFile('main.ts');
    const frame = await wb().frameWith('.empty-state');
    assert.equal(await frame.evaluate(() => document.querySelector('.empty-state h2')?.textContent ?? ''), EMPTY_STATE);
    await wb().screenshot('foundation-readme', { x: 0, y: 0, width: 1280, height: 720 });
  });

  it('activated the extension (Developer: Show Running Extensions lists it with an activation time)', async () => {
    const times = await wb().activationTimes();
    const forkscope = [...times].find(([id]) => /forkscope/i.test(id));
    assert.ok(forkscope, `Forkscope missing among running extensions: ${[...times.keys()].join(', ')}`);
    assert.ok(forkscope[1] >= 0);
    await wb().screenshot('foundation-running-extensions');
    console.log(`activation: ${JSON.stringify(Object.fromEntries(times))}`);
  });

  it('offers "Forkscope: Launch Program" through Debug: Add Configuration…', async () => {
    await wb().openFile('main.ts');
    await wb().runCommand('Debug: Add Configuration...');
    // No launch.json yet: VS Code first asks which debugger; Forkscope must be listed.
    await wb().quickPick('Forkscope', 30_000);
    const launchJson = join(suite.workspace, '.vscode', 'launch.json');
    const content = await waitFor('launch.json with the Forkscope configuration', () =>
      existsSync(launchJson) && readFileSync(launchJson, 'utf8').includes('Forkscope: Launch Program') ? readFileSync(launchJson, 'utf8') : null,
    );
    assert.match(content, /"type":\s*"forkscope"/);
    assert.match(content, /"request":\s*"launch"/);
    await wb().screenshot('foundation-launch-configuration');
  });

  it('installed the .vsix into code-server as forkscope.forkscope-<version>', () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const installed = readdirSync(wb().extensionsDir).find((d) => d.startsWith('forkscope.forkscope-'));
    assert.equal(installed, `forkscope.forkscope-${version}`);
    const manifest = JSON.parse(readFileSync(join(wb().extensionsDir, installed, 'package.json'), 'utf8')) as { main: string };
    assert.ok(existsSync(join(wb().extensionsDir, installed, manifest.main)), 'the installed extension holds its main bundle');
  });
});
