// The `forkscope` debug type in a real VS Code (code-server) in real Chromium: a pool program stops at a
// breakpoint in every worker, each worker its own named session; all-stop pauses the others; Stop leaves no
// process; single-process mode hits the same breakpoint in one session. Uses test/e2e/harness.ts only.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { buildVsix, ensureE2EEnvironment, processesOf, REPO_ROOT, startWorkbench, waitFor, type CallStackRow, type Workbench } from './harness';

const PROGRAM = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'debug-pool.ts'), 'utf8');
const lineOf = (marker: string): number => PROGRAM.split('\n').findIndex((l) => l.includes(`// ${marker}`)) + 1;
const WORKER_LINE = lineOf('WORKER_LINE');
const ONE_WORKER_LINE = lineOf('ONE_WORKER_LINE');
// js-debug nests its target session under ours and names it `Remote Process [0] « <our name>`.
/** A top frame (`pool.ts:11:13`, or with the full path) on that line of the program. */
const atLine = (top: string | undefined, line: number): boolean => !!top && new RegExp(`(^|/)pool\\.ts:${line}:`).test(top);
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
    const left = workspace ? programProcesses() : [];
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

  // On a loaded machine the first Enter in Go to Line can land before the widget takes it: retry once.
  const goToLine = async (line: number): Promise<void> => {
    try {
      await wb!.goToLine(line);
    } catch {
      await wb!.page.keyboard.press('Escape');
      await wb!.goToLine(line);
    }
  };

  /** Closes the bottom panel and collapses Variables, Watch and Breakpoints, so the Call Stack shows many rows. */
  const roomForCallStack = async (): Promise<void> => {
    await waitFor('the Run and Debug view', () => wb!.page.evaluate(() => !!document.querySelector('.debug-call-stack')), 60_000);
    await wb!.runCommand('View: Close Panel').catch(() => undefined);
    for (const title of ['Variables', 'Watch', 'Breakpoints']) {
      const header = await wb!.page.evaluate((t) => {
        const h = Array.from(document.querySelectorAll('.pane-header')).find((e) => e.querySelector('h3.title')?.textContent?.trim() === t && e.getAttribute('aria-expanded') === 'true');
        if (!h) return null;
        const r = h.getBoundingClientRect();
        return { x: r.left + 40, y: r.top + r.height / 2 };
      }, title);
      if (header) await wb!.page.mouse.click(header.x, header.y);
    }
  };

  /** Where the Call Stack list is, if it is showing (no waiting: the view opens when a session starts). */
  const callStackBox = (): Promise<{ x: number; y: number; width: number; height: number } | null> =>
    wb!.page.evaluate(() => {
      const el = document.querySelector('.debug-call-stack .monaco-list');
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return r.height > 0 ? { x: r.left, y: r.top, width: r.width, height: r.height } : null;
    });

  /** The program's processes: everything under the workspace but the workbench's own (code-server, its servers). */
  const programProcesses = () => processesOf(workspace).filter((p) => !/code-server|--clientProcessId|chromium/.test(p.cmdline));

  interface SessionView {
    state: string;
    /** The top frame shown under it, `file:line:column`, when expanded. */
    top?: string;
  }

  /** Every session row of the Call Stack with its top frame, scrolling the virtualised list with the real wheel. */
  const sessions = async (): Promise<Map<string, SessionView>> => {
    const found = new Map<string, SessionView>();
    const box = await callStackBox();
    if (!box) return found;
    await wb!.page.mouse.move(box.x + box.width / 2, box.y + Math.min(box.height / 2, 50));
    await wb!.page.mouse.wheel(0, -100_000);
    await delay(100);
    let last = '';
    for (let i = 0; i < 60; i++) {
      const rows = await visibleRows();
      rows.forEach((r, j) => {
        if (r.kind !== 'session') return;
        const next = rows[j + 1];
        const top = next?.kind === 'frame' ? `${next.file}:${next.line}` : found.get(r.name)?.top;
        found.set(r.name, { state: r.state, ...(top ? { top } : {}) });
      });
      // The end of the list: a scroll that shows exactly the same rows.
      const seen = rows.map((r) => r.text).join('\n');
      if (seen === last) break;
      last = seen;
      await wb!.page.mouse.wheel(0, Math.max(60, box.height * 0.4));
      await delay(120);
    }
    return found;
  };

  /** The Call Stack's rendered rows in visual order (the list positions rows absolutely; DOM order may differ). */
  const visibleRows = async (): Promise<Array<CallStackRow & { top: number }>> => {
    const rows = await wb!.callStackRows();
    const tops = await wb!.page.evaluate(() =>
      Array.from(document.querySelectorAll('.debug-call-stack .monaco-list-rows > .monaco-list-row')).map((r) => r.getBoundingClientRect().top),
    );
    return rows.map((r, i) => ({ ...r, top: tops[i] ?? 0 })).sort((a, b) => a.top - b.top);
  };

  const workers = async (): Promise<Array<[string, SessionView]>> => [...(await sessions())].filter(([name]) => WORKER_SESSION.test(name));

  /** Clicks the top frame row under a session (near the left edge: the middle holds hover actions). */
  const focusTopFrameOf = async (session: string): Promise<void> => {
    const box = await callStackBox();
    if (!box) throw new Error('the Call Stack is not showing');
    await wb!.page.mouse.move(box.x + box.width / 2, box.y + 20);
    await wb!.page.mouse.wheel(0, -100_000);
    for (let i = 0; i < 40; i++) {
      await delay(100);
      const clicked = await wb!.page.evaluate((name) => {
        const rows = Array.from(document.querySelectorAll('.debug-call-stack .monaco-list-rows > .monaco-list-row')).sort(
          (a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top,
        );
        const at = rows.findIndex((r) => r.querySelector('.session .name')?.textContent?.trim() === name);
        const frame = at >= 0 ? rows[at + 1] : undefined;
        if (!frame?.querySelector('.stack-frame')) return null;
        const rect = frame.getBoundingClientRect();
        return { x: rect.left + 24, y: rect.top + rect.height / 2 };
      }, session);
      if (clicked) {
        await wb!.page.mouse.click(clicked.x, clicked.y);
        return;
      }
      await wb!.page.mouse.wheel(0, Math.max(100, box.height * 0.5));
    }
    throw new Error(`no top frame row under ${session}`);
  };

  const failWithEvidence = async (name: string, error: unknown): Promise<never> => {
    console.log(JSON.stringify([...(await sessions().catch(() => new Map()))], null, 1));
    console.log(await wb!.notifications().catch(() => []));
    await wb!.screenshot(name).catch(() => undefined);
    throw error;
  };

  const stopAndExpectNoProcess = async (): Promise<void> => {
    await wb!.page.keyboard.press('Escape');
    await wb!.page.keyboard.press('Shift+F5');
    const left = await waitFor('every process of the program to end', () => (programProcesses().length === 0 ? [] : null), 30_000).catch(() =>
      programProcesses(),
    );
    assert.deepEqual(left.map((p) => `${p.pid} ${p.cmdline}`), [], 'no process of the program survives Stop');
    await waitFor('the Call Stack to empty', async () => (await wb!.callStackRows()).length === 0, 30_000);
  };

  it('stops at a breakpoint in every pool worker, each in its own named session; steps one; all-stop; Stop ends every process', async () => {
    try {
      await wb!.openFile('pool.ts');
      await goToLine(WORKER_LINE);
      await addBreakpointAtCursor();
      await goToLine(ONE_WORKER_LINE);
      await addBreakpointAtCursor();
      const started = Date.now();
      await wb!.runCommand('Debug: Start Debugging');
      await roomForCallStack();

      // Every worker is its own session, named as the runtime names it, paused at the line.
      const paused = await waitFor(
        'three worker sessions paused on the breakpoint',
        async () => {
          const list = (await workers()).filter(([, v]) => /Paused on breakpoint/i.test(v.state) && atLine(v.top, WORKER_LINE));
          return list.length >= 3 ? list : null;
        },
        180_000,
      );
      console.log(`3 workers paused at pool.ts:${WORKER_LINE} ${Date.now() - started} ms after Start`);
      assert.equal(new Set(paused.map(([name]) => WORKER_SESSION.exec(name)![2])).size, 3, 'three distinct worker pids');
      await wb!.screenshot('debug-pool-workers-paused');

      // Step one worker: it moves to the next line; the others stay where they are.
      const [stepped] = paused[0]!;
      await focusTopFrameOf(stepped);
      await wb!.page.keyboard.press('F10');
      await waitFor('the stepped worker on the next line', async () => {
        const all = new Map(await workers());
        const s = all.get(stepped);
        const others = [...all].filter(([name]) => name !== stepped);
        return atLine(s?.top, WORKER_LINE + 1) &&
          others.filter(([, v]) => /Paused on breakpoint/i.test(v.state) && atLine(v.top, WORKER_LINE)).length >= 2;
      }, 60_000);
      await wb!.screenshot('debug-pool-stepped-one');

      // All-stop on; Continue on one worker resumes every worker (phase 1 ends only if all three go on),
      // then one worker stops at ONE_WORKER_LINE and all-stop pauses the two that keep running.
      await wb!.runCommand('Forkscope: Toggle All-Stop (pause every process when one stops)');
      await focusTopFrameOf(stepped);
      await wb!.page.keyboard.press('F5');
      const allStopped = await waitFor(
        'one worker on the breakpoint and the others paused by all-stop',
        async () => {
          const list = await workers();
          const onBreakpoint = list.filter(([, v]) => /Paused on breakpoint/i.test(v.state) && atLine(v.top, ONE_WORKER_LINE));
          const pausedByUs = list.filter(([, v]) => /^Paused/i.test(v.state) && !/breakpoint/i.test(v.state));
          const running = list.filter(([, v]) => /Running/i.test(v.state));
          return onBreakpoint.length === 1 && pausedByUs.length >= 2 && running.length === 0 ? list : null;
        },
        90_000,
      );
      console.log(JSON.stringify(allStopped));
      await wb!.screenshot('debug-pool-all-stop');

      await stopAndExpectNoProcess();
    } catch (error) {
      await failWithEvidence('debug-pool-failure', error);
    }
  });

  it('single process: the same breakpoint is hit in the one process, no worker sessions', async () => {
    try {
      await wb!.runCommand('Debug: Select and Start Debugging');
      await wb!.quickPick('Pool (single process)', 30_000);
      await roomForCallStack();
      const main = await waitFor(
        'the main process paused at the worker line',
        async () => {
          const all = [...(await sessions())];
          const hit = all.find(([name, v]) => /MainProcess · main · pid \d+$/.test(name) && /Paused on breakpoint/i.test(v.state) && atLine(v.top, WORKER_LINE));
          return hit ? all : null;
        },
        120_000,
      );
      assert.deepEqual(main.filter(([name]) => WORKER_SESSION.test(name)), [], 'no worker process in single-process mode');
      await wb!.screenshot('debug-pool-single-process');
      await stopAndExpectNoProcess();
    } catch (error) {
      await failWithEvidence('debug-pool-single-failure', error);
    }
  });
});
