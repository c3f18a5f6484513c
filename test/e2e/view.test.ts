// The Program view in a real VS Code (code-server) in real Chromium: programs run under the `forkscope`
// debug type and the view shows their tree, queues, pipes, locks and deadlocks; the single-process toggle
// restarts the program and the view follows. Uses test/e2e/harness.ts only; screenshots in test-results/.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { buildVsix, ensureE2EEnvironment, processesOf, REPO_ROOT, startWorkbench, waitFor, type Workbench } from './harness';

const PROGRAM = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'view-program.ts'), 'utf8');
// examples/deadlock.ts does not reach the hub's wait-for graph yet (its Process children's lock waits are not
// reported); this fixture reports the same cycle over the real control channel, as the runtime's lock owner does.
const DEADLOCK = join(REPO_ROOT, 'test', 'fixtures', 'view-deadlock.ts');

describe('Program view in code-server', { timeout: 600_000 }, () => {
  let workspace: string;
  let wb: Workbench | undefined;

  before(async () => {
    ensureE2EEnvironment();
    workspace = mkdtempSync(join(tmpdir(), 'forkscope-ws-view-'));
    writeFileSync(join(workspace, 'program.ts'), PROGRAM);
    // The programs import `forkscope` and run through tsx, as in a project that installed both.
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(workspace, 'node_modules'), 'dir');
    mkdirSync(join(workspace, '.vscode'));
    writeFileSync(
      join(workspace, '.vscode', 'launch.json'),
      JSON.stringify({
        version: '0.2.0',
        configurations: [
          // Children run without a debugger each, so the machine's two cores go to the program and the view.
          { type: 'forkscope', request: 'launch', name: 'Program', program: '${workspaceFolder}/program.ts', attach: 'none' },
          { type: 'forkscope', request: 'launch', name: 'Deadlock', program: DEADLOCK, cwd: REPO_ROOT, attach: 'none', env: { VIEW_DEADLOCK_HOLD_MS: '120000' } },
        ],
      }),
    );
    wb = await startWorkbench({ workspace, name: 'view', vsix: buildVsix(), settings: { 'forkscope.view.maxUpdatesPerSecond': 10 } });
  });

  const programProcesses = () => [...(workspace ? processesOf(workspace) : []), ...processesOf(join(REPO_ROOT, 'test', 'fixtures'))].filter((p) => /program\.ts|view-deadlock/.test(p.cmdline));

  after(async () => {
    await wb?.close();
    const left = programProcesses();
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
    if (workspace) rmSync(workspace, { recursive: true, force: true });
    assert.deepEqual(left.map((p) => `${p.pid} ${p.cmdline}`), [], 'program processes left after Stop');
  });

  /** The Program view's frame, with the Forkscope container shown (a hidden view gets no updates, by design). */
  async function view(): Promise<Frame> {
    const page = wb!.page;
    const item = page.locator('.activitybar .action-item:has(a[aria-label^="Forkscope"])');
    if (!(await item.evaluate((e) => e.classList.contains('checked')))) await item.locator('a').click();
    return wb!.frameWith('#root', 60_000);
  }

  const text = (frame: Frame, selector: string) => frame.evaluate((s) => Array.from(document.querySelectorAll(s)).map((e) => e.textContent ?? ''), selector);

  async function stop(): Promise<void> {
    await wb!.page.keyboard.press('Escape');
    await wb!.page.keyboard.press('Shift+F5');
    await waitFor('every process of the program to end', () => programProcesses().length === 0, 60_000);
  }

  it('shows the running program: tree with a killed child, pool workers, hostile names as text', async () => {
    let frame = await view();
    await wb!.openFile('program.ts');
    await wb!.runCommand('Debug: Start Debugging');
    frame = await view();
    const rows = await waitFor(
      'the view to show the main process, pool workers, and a killed child',
      async () => {
        const f = await view();
        const r = await text(f, '.process-row');
        const ok = r.some((t) => t.includes('MainProcess')) && r.some((t) => /SpawnPoolWorker/.test(t)) && r.some((t) => /killed by SIGKILL/.test(t));
        return ok ? r : null;
      },
      120_000,
    );
    frame = await view();
    assert.ok(rows.some((t) => t.includes('<img src=x onerror="window.__pwned=1">')), `the hostile name shows as text: ${rows.join(' | ')}`);
    assert.equal(await frame.evaluate(() => document.querySelectorAll('#root img').length), 0);
    assert.equal(await frame.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    const killed = await frame.evaluate(() => Array.from(document.querySelectorAll('.process-row.dead')).map((e) => e.textContent ?? ''));
    assert.ok(killed.some((t) => /killed by SIGKILL/.test(t)), 'the killed child is greyed with how it died');
    const session = await frame.evaluate(() => document.querySelector('.session-name')?.textContent ?? '');
    assert.match(session, /Program/);
    const panels = await text(frame, '.object');
    assert.ok(panels.some((t) => /Pool/.test(t)), 'the pool shows');
    assert.ok(panels.some((t) => /Queue[\s\S]*\/ 5/.test(t)), 'the bounded queue shows with its maxsize');
    assert.ok(panels.some((t) => /[1-9]\d* messages · [\d.]+ (B|KB|MB) in all/.test(t)), 'pipe and channel traffic shows in bytes');
    assert.ok(panels.some((t) => /Lock/.test(t)), 'the lock shows');
    console.log(`# view rows: ${rows.join(' | ')}`);
    console.log(`# view panels: ${panels.join(' | ')}`);
    await wb!.screenshot('view-e2e-program');
  });

  it('lists the processes in the native Processes tree of Run and Debug; a click in the view brings the Call Stack forward', async () => {
    const page = wb!.page;
    await page.keyboard.press('Control+Shift+D');
    // A view added to Run and Debug starts collapsed at the bottom: expand its pane.
    await waitFor('the Processes pane, expanded', () =>
      page.evaluate(() => {
        const header = Array.from(document.querySelectorAll('.pane-header')).find((e) => /^\s*Processes/.test(e.textContent ?? ''));
        if (header?.getAttribute('aria-expanded') === 'false') (header as HTMLElement).click();
        return header?.getAttribute('aria-expanded') === 'true';
      }),
      60_000,
    );
    const rows = await waitFor(
      'the Processes tree beside the Call Stack',
      () =>
        page.evaluate(() => {
          const pane = Array.from(document.querySelectorAll('.pane')).find((p) => p.querySelector('.pane-header')?.textContent?.includes('Processes'));
          const texts = pane ? Array.from(pane.querySelectorAll('.monaco-list-row')).map((r) => r.textContent ?? '') : [];
          return texts.some((t) => t.includes('MainProcess')) && texts.some((t) => /SpawnPoolWorker/.test(t)) ? texts : null;
        }),
      60_000,
    ).catch(async (error: unknown) => {
      await wb!.screenshot('view-e2e-processes-tree-failure');
      throw error;
    });
    await wb!.screenshot('view-e2e-processes-tree');
    console.log(`# tree rows: ${rows.join(' | ')}`);
    assert.ok(rows.some((t) => /MainProcess/.test(t) && /\d+ · (running|waiting)/.test(t)), `the main process with pid and state: ${rows.join(' | ')}`);
    const frame = await view();
    await frame.locator('.process-row', { hasText: 'MainProcess' }).locator('.name-text').click();
    // The host checks the pid against the session's table and brings the Call Stack forward (VS Code has no
    // public API that selects one session in it: `debug.activeDebugSession` is read-only at run time).
    await waitFor('the Call Stack to come forward with the program session', async () => (await wb!.callStackRows()).some((r) => r.kind === 'session' && /Program/.test(r.name)), 30_000);
    assert.equal(await page.locator('.activitybar .action-item:has(a[aria-label^="Forkscope"])').evaluate((e) => e.classList.contains('checked')), false, 'Run and Debug replaced the Forkscope container');
  });

  it('pauses and continues one process from its row; the view shows it paused meanwhile', async () => {
    // A click on the name would reveal the session and hide the view; the row's own buttons do not.
    const main = async () => (await view()).locator('.process-row', { hasText: 'MainProcess' });
    const state = async () => (await main()).locator('.state-text').textContent();
    await (await main()).getByRole('button', { name: 'Pause this process' }).click();
    await waitFor('the main process to show as paused', async () => /paused in the debugger/.test((await state()) ?? ''), 60_000);
    await wb!.screenshot('view-e2e-paused');
    await (await main()).getByRole('button', { name: 'Continue this process' }).click();
    await waitFor('the main process to run again', async () => !/paused/.test((await state()) ?? ''), 60_000);
  });

  it('toggle "Run as single process" restarts the program inline and the view says so', async () => {
    const frame = await view();
    await frame.locator('[role="switch"]').click();
    await waitFor(
      'the view to show single-process mode',
      async () => {
        const f = await view();
        return f.evaluate(() => document.querySelector('[role="switch"]')?.getAttribute('aria-checked') === 'true' && !(document.querySelector('.badge.single') as HTMLElement | null)?.hidden);
      },
      120_000,
    );
    await wb!.screenshot('view-e2e-single-process');
    await stop();
    const after = await view();
    await waitFor('the view to mark the session ended', () => after.evaluate(() => /\(ended\)/.test(document.querySelector('.session-name')?.textContent ?? '')), 30_000);
  });

  it('draws a deadlock found by the hub and names both locations in a notification', async () => {
    await wb!.runCommand('Debug: Select and Start Debugging');
    await wb!.quickPick('Deadlock', 30_000);
    const cycle = await waitFor(
      'the deadlock cycle in the view',
      async () => {
        const f = await view();
        const t = await f.evaluate(() => {
          const section = document.querySelector('.deadlocks') as HTMLElement | null;
          return section && !section.hidden ? (section.textContent ?? '') : null;
        });
        return t;
      },
      120_000,
    );
    assert.match(cycle, /view-deadlock-child\.ts · \d+ waits for Lock ledger at view-deadlock-child\.ts:6, held by view-deadlock-child\.ts · \d+/);
    assert.match(cycle, /view-deadlock-child\.ts · \d+ waits for Lock accounts at view-deadlock-child\.ts:7, held by view-deadlock-child\.ts · \d+/);
    const frame = await view();
    assert.equal(await frame.evaluate(() => document.querySelectorAll('.deadlocks .cycle-node').length), 4);
    const notice = await waitFor('the deadlock notification', async () => (await wb!.notifications()).find((n) => /deadlock at view-deadlock-child\.ts:[67] and view-deadlock-child\.ts:[67]/.test(n)), 30_000);
    assert.match(notice, /deadlock/);
    await wb!.screenshot('view-e2e-deadlock');
    await stop();
  });
});
