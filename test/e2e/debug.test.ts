// The `forkscope` debug type in a real VS Code (code-server) in real Chromium: a pool program stops at a
// breakpoint in every worker, each worker its own named session; all-stop pauses the others; Stop leaves no
// process; single-process mode hits the same breakpoint in one session; stopOnEntry pauses the main process at
// the top; a child's console.log shows once in the Debug Console. Uses test/e2e/harness.ts only.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  callStackBox as harnessCallStackBox,
  callStackSessions,
  dapEvents,
  dapRecorderVsix,
  REPO_ROOT,
  setBreakpoints,
  showCallStack,
  waitFor,
  workbenchSuite,
  type SessionView,
} from './harness';
import { killQuietly } from './processes';

const PROGRAM = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'debug-pool.ts'), 'utf8');
const CHILD_LOG = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'e2e-child-log.ts'), 'utf8');
const lineOf = (marker: string): number => PROGRAM.split('\n').findIndex((l) => l.includes(`// ${marker}`)) + 1;
const WORKER_LINE = lineOf('WORKER_LINE');
const ONE_WORKER_LINE = lineOf('ONE_WORKER_LINE');
/** The first line of code (the import) after the header comment. */
const FIRST_CODE_LINE = PROGRAM.split('\n').findIndex((l) => l.trim() !== '' && !l.startsWith('//')) + 1;
/** A top frame (`pool.ts:11:13`, or with the full path) on that line of the program. */
const atLine = (top: string | undefined, line: number): boolean => !!top && new RegExp(`(^|/)pool\\.ts:${line}:`).test(top);
/** Session names exactly as the runtime names its processes, nothing in front (js-debug's `Remote Process [0] «`). */
const WORKER_SESSION = /^SpawnPoolWorker-\d+ · worker · pid (\d+)$/;
const MAIN_SESSION = /^MainProcess · main · pid \d+$/;

describe('forkscope debug type in code-server', { timeout: 600_000 }, () => {
  const suite = workbenchSuite({
    name: 'debug',
    leftovers: 'kill', // a failed test has said what it found; the hook only cleans up
    extraVsix: [dapRecorderVsix()],
    workspace: {
      files: { 'pool.ts': PROGRAM, 'child-log.ts': CHILD_LOG },
      // The programs import `forkscope` and run through tsx, as in a project that installed both.
      links: { node_modules: join(REPO_ROOT, 'node_modules') },
      launch: [
        { type: 'forkscope', request: 'launch', name: 'Pool', program: '${workspaceFolder}/pool.ts' },
        { type: 'forkscope', request: 'launch', name: 'Pool (single process)', program: '${workspaceFolder}/pool.ts', singleProcess: true },
        { type: 'forkscope', request: 'launch', name: 'Pool (stop on entry)', program: '${workspaceFolder}/pool.ts', stopOnEntry: true },
        { type: 'forkscope', request: 'launch', name: 'Child log', program: '${workspaceFolder}/child-log.ts' },
      ],
    },
  });
  const wb = () => suite.wb;

  // On a loaded machine the first Enter in Go to Line can land before the widget takes it: retry once.
  const goToLine = async (line: number): Promise<void> => {
    try {
      await wb().goToLine(line);
    } catch {
      await wb().page.keyboard.press('Escape');
      await wb().goToLine(line);
    }
  };

  /** Closes the bottom panel and collapses Variables, Watch and Breakpoints, so the Call Stack shows many rows. */
  const roomForCallStack = (): Promise<void> => showCallStack(wb());
  const callStackBox = () => harnessCallStackBox(wb());
  const programProcesses = () => suite.programProcesses();
  /** Every session row of the Call Stack with its top frame. */
  const sessions = (): Promise<Map<string, SessionView>> => callStackSessions(wb());

  const workers = async (): Promise<Array<[string, SessionView]>> => [...(await sessions())].filter(([name]) => WORKER_SESSION.test(name));

  /** Clicks the top frame row under a session (near the left edge: the middle holds hover actions). */
  const focusTopFrameOf = async (session: string): Promise<void> => {
    const box = await callStackBox();
    if (!box) throw new Error('the Call Stack is not showing');
    await wb().page.mouse.move(box.x + box.width / 2, box.y + 20);
    await wb().page.mouse.wheel(0, -100_000);
    for (let i = 0; i < 40; i++) {
      await delay(100);
      const clicked = await wb().page.evaluate((name) => {
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
        await wb().page.mouse.click(clicked.x, clicked.y);
        return;
      }
      await wb().page.mouse.wheel(0, Math.max(100, box.height * 0.5));
    }
    throw new Error(`no top frame row under ${session}`);
  };

  const failWithEvidence = async (name: string, error: unknown): Promise<never> => {
    console.log(JSON.stringify([...(await sessions().catch(() => new Map()))], null, 1));
    console.log(
      await wb()
        .notifications()
        .catch(() => []),
    );
    await wb()
      .screenshot(name)
      .catch(() => undefined);
    // The next test starts from an empty Call Stack: a session left running would keep the Debug Console's focus.
    for (const p of programProcesses()) killQuietly(p.pid, 'SIGKILL');
    await waitFor('the Call Stack to empty', async () => (await wb().callStackRows()).length === 0, 30_000).catch(() => undefined);
    throw error;
  };

  const stopAndExpectNoProcess = async (): Promise<void> => {
    await wb().page.keyboard.press('Escape');
    await wb().page.keyboard.press('Shift+F5');
    const left = await waitFor('every process of the program to end', () => (programProcesses().length === 0 ? [] : null), 30_000).catch(() =>
      programProcesses(),
    );
    assert.deepEqual(
      left.map((p) => `${p.pid} ${p.cmdline}`),
      [],
      'no process of the program survives Stop',
    );
    await waitFor('the Call Stack to empty', async () => (await wb().callStackRows()).length === 0, 30_000);
  };

  it('stops at a breakpoint in every pool worker, each in its own named session; steps one; all-stop; Stop ends every process', async () => {
    try {
      await wb().openFile('pool.ts');
      await goToLine(WORKER_LINE);
      await wb().toggleBreakpoint();
      await goToLine(ONE_WORKER_LINE);
      await wb().toggleBreakpoint();
      const started = Date.now();
      await wb().runCommand('Debug: Start Debugging');
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
      assert.equal(new Set(paused.map(([name]) => WORKER_SESSION.exec(name)![1])).size, 3, 'three distinct worker pids');
      // Only the program's own processes: the launch's session, the main process and the three workers.
      const names = [...(await sessions()).keys()];
      const strangers = names.filter((name) => name !== 'Pool' && !MAIN_SESSION.test(name) && !WORKER_SESSION.test(name));
      assert.deepEqual(strangers, [], `every Call Stack row is one of the program's processes: ${names.join(' | ')}`);
      assert.equal(names.filter((name) => MAIN_SESSION.test(name)).length, 1, `one main process row: ${names.join(' | ')}`);
      await wb().screenshot('debug-pool-workers-paused');

      // Step one worker: it moves to the next line; the others stay where they are.
      const [stepped] = paused[0]!;
      await focusTopFrameOf(stepped);
      await wb().page.keyboard.press('F10');
      await waitFor(
        'the stepped worker on the next line',
        async () => {
          const all = new Map(await workers());
          const s = all.get(stepped);
          const others = [...all].filter(([name]) => name !== stepped);
          return atLine(s?.top, WORKER_LINE + 1) && others.filter(([, v]) => /Paused on breakpoint/i.test(v.state) && atLine(v.top, WORKER_LINE)).length >= 2;
        },
        60_000,
      );
      await wb().screenshot('debug-pool-stepped-one');

      // All-stop on; Continue on one worker resumes every worker (phase 1 ends only if all three go on),
      // then one worker stops at ONE_WORKER_LINE and all-stop pauses the two that keep running.
      await wb().runCommand('Forkscope: Toggle All-Stop (pause every process when one stops)');
      await focusTopFrameOf(stepped);
      await wb().page.keyboard.press('F5');
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
      await wb().screenshot('debug-pool-all-stop');

      await stopAndExpectNoProcess();
    } catch (error) {
      await failWithEvidence('debug-pool-failure', error);
    }
  });

  /** Debug: Select and Start Debugging → the configuration `name`, with room made for the Call Stack. */
  const startConfiguration = async (name: string): Promise<void> => {
    // Run alone (a name pattern), this is the workbench's first step: an open editor first, as a person would have.
    await wb().openFile('pool.ts');
    await wb().runCommand('Debug: Select and Start Debugging');
    await wb().quickPick(name, 30_000);
    await roomForCallStack();
  };

  /** Waits until the main process's session is paused (`state`) with its top frame on one of `lines`; every session then. */
  const mainPaused = (what: string, state: RegExp, lines: number[], timeoutMs = 120_000): Promise<Array<[string, SessionView]>> =>
    waitFor(
      what,
      async () => {
        const all = [...(await sessions())];
        const hit = all.find(([name, v]) => MAIN_SESSION.test(name) && state.test(v.state) && lines.some((line) => atLine(v.top, line)));
        return hit ? all : null;
      },
      timeoutMs,
    );

  it('child sessions leave the Forkscope view in the side bar while they attach', {
    todo: "issue 17 item 8: passes here (2/2 whole-file runs; alone 2/2, once in the fresh clone itself), fails in a fresh clone's CI run (the view hidden once while 9 sessions started, 2 of 2 rehearsals), and passes with suppressDebugView removed: what hides it there is not yet known",
  }, async () => {
    const page = wb().page;
    const forkscopeItem = '.activitybar .action-item:has(a[aria-label^="Forkscope"])';
    const showForkscope = async (): Promise<void> => {
      if (!(await page.evaluate((sel) => document.querySelector(sel)?.classList.contains('checked') ?? false, forkscopeItem)))
        await page.locator(`${forkscopeItem} a`).click();
      await wb().frameWith('#root', 60_000);
    };
    // With VS Code's default `debug.openDebug` ("openOnFirstSessionStart") a session opens Run and Debug while the
    // window's first session has not answered its launch: a child started before then (our launch answering late) would
    // take the side bar, as would one of ours without `suppressDebugView` under "openOnSessionStart" (js-debug's own
    // nested sessions do too there: it starts them without that option, out of Forkscope's reach).
    const theFirstCasesBreakpoints = [
      { file: 'pool.ts', line: WORKER_LINE },
      { file: 'pool.ts', line: ONE_WORKER_LINE },
    ];
    try {
      await wb().openFile('pool.ts');
      // One breakpoint, where every worker stops; the first case's two are put back at the end, for the cases after this one.
      await setBreakpoints(wb(), [{ file: 'pool.ts', line: WORKER_LINE }]);
      await showForkscope();
      const since = Date.now();
      await wb().runCommand('Debug: Select and Start Debugging');
      await wb().quickPick('Pool', 30_000);
      // VS Code itself opens Run and Debug for a window's first session, until that session's launch has answered
      // (`debug.openDebug`'s default, "openOnFirstSessionStart"): that is not a child's doing. Watched from then on.
      await waitFor(
        'the launch request to answer',
        () => dapEvents(suite.workspace).some((e) => e.ev === 'response' && e.command === 'launch' && e.t >= since),
        60_000,
      );
      await showForkscope();
      // Every change of the side bar's container is logged (which one, when), so a failure says what took the side bar.
      const watchedAt = Date.now();
      await page.evaluate(
        ({ sel, t0 }) => {
          const w = window as unknown as { __forkscopeHidden: number; __forkscopeLog: string[]; __forkscopeWatch: ReturnType<typeof setInterval> };
          const checkedLabel = (): string =>
            document.querySelector('.activitybar .action-item.checked a')?.getAttribute('aria-label')?.split(/\s\(/)[0] ?? 'none';
          w.__forkscopeHidden = 0;
          w.__forkscopeLog = [];
          let shown = true;
          let last = checkedLabel();
          w.__forkscopeWatch = setInterval(() => {
            const now = document.querySelector(sel)?.classList.contains('checked') ?? false;
            if (shown && !now) w.__forkscopeHidden++;
            shown = now;
            const label = checkedLabel();
            if (label !== last) w.__forkscopeLog.push(`+${Date.now() - t0} ms ${label}`);
            last = label;
          }, 25);
        },
        { sel: forkscopeItem, t0: watchedAt },
      );
      // Every worker's session starts and stops at the breakpoint meanwhile (js-debug's nested sessions included).
      const stops = await waitFor(
        'three sessions stopped on the breakpoint',
        () => dapEvents(suite.workspace).filter((e) => e.ev === 'stopped' && e.t >= since && e.reason === 'breakpoint').length >= 3,
        180_000,
      ).catch((error: unknown) => error as Error);
      const { hidden, log } = await page.evaluate(() => {
        const w = window as unknown as { __forkscopeHidden: number; __forkscopeLog: string[]; __forkscopeWatch: ReturnType<typeof setInterval> };
        clearInterval(w.__forkscopeWatch);
        return { hidden: w.__forkscopeHidden, log: w.__forkscopeLog };
      });
      const seen = dapEvents(suite.workspace).filter((e) => e.t >= since && e.ev !== 'output');
      const started = seen.filter((e) => e.ev === 'session').length;
      // The side bar's changes beside the debug sessions' events (starts, stops, stacks), on one clock (ms since the watch began).
      const timeline = [...log, ...seen.map((e) => `+${e.t - watchedAt} ms ${e.ev} ${JSON.stringify(e).slice(0, 160)}`)].sort(
        (a, b) => Number(a.slice(1).split(' ')[0]) - Number(b.slice(1).split(' ')[0]),
      );
      console.log(`side bar while sessions started:\n${timeline.join('\n')}`);
      await wb().screenshot('debug-forkscope-view-kept');
      // Breakpoints and sessions back as the cases after this one expect, before judging what was seen.
      await roomForCallStack();
      await stopAndExpectNoProcess();
      await setBreakpoints(wb(), theFirstCasesBreakpoints);
      assert.ok(started >= 4, `only ${started} sessions started`);
      assert.equal(hidden, 0, `the Forkscope view was replaced ${hidden} times while ${started} sessions started: ${log.join(', ')}`);
      if (stops instanceof Error) throw stops;
    } catch (error) {
      await setBreakpoints(wb(), theFirstCasesBreakpoints).catch(() => undefined);
      await failWithEvidence('debug-forkscope-view-failure', error);
    }
  });

  it('single process: the same breakpoint is hit in the one process, no worker sessions', async () => {
    try {
      await startConfiguration('Pool (single process)');
      const all = await mainPaused('the main process paused at the worker line', /Paused on breakpoint/i, [WORKER_LINE]);
      assert.deepEqual(
        all.filter(([name]) => WORKER_SESSION.test(name)),
        [],
        'no worker process in single-process mode',
      );
      await wb().screenshot('debug-pool-single-process');
      await stopAndExpectNoProcess();
    } catch (error) {
      await failWithEvidence('debug-pool-single-failure', error);
    }
  });

  // Runs after the first test, whose breakpoints on WORKER_LINE and ONE_WORKER_LINE are still set: js-debug then has a
  // module-entry breakpoint of its own at the same spot as ours and resumes that pause at once; the adapter's second
  // breakpoint, on the next statement of the program's top level, is where the main process then stops.
  it('stopOnEntry: the main process pauses on the top of the program before any worker exists', async () => {
    try {
      await startConfiguration('Pool (stop on entry)');
      // The first line V8 runs is the compiled module's; its source maps to the top of pool.ts (up to the import).
      const top = Array.from({ length: FIRST_CODE_LINE }, (_, i) => i + 1);
      const all = await mainPaused('the main process paused at the top of pool.ts', /^Paused/i, top, 60_000);
      assert.deepEqual(
        all.filter(([name]) => WORKER_SESSION.test(name)),
        [],
        'no worker before the main process goes on',
      );
      await wb().screenshot('debug-pool-stop-on-entry');
      await stopAndExpectNoProcess();
    } catch (error) {
      await failWithEvidence('debug-stop-on-entry-failure', error);
    }
  });

  it("a child's console.log line shows exactly once in the Debug Console", async () => {
    try {
      await wb().runCommand('Debug: Select and Start Debugging');
      await wb().quickPick('Child log', 30_000);
      await wb()
        .runCommand('View: Toggle Debug Console')
        .catch(() => undefined);
      await waitFor('the Debug Console', () => wb().page.evaluate(() => !!document.querySelector('.repl')?.getBoundingClientRect().height), 30_000);
      const count = (rows: string[], marker: string) => rows.filter((r) => r.includes(marker)).length;
      await waitFor("the child's line in the Debug Console", async () => count(await wb().debugConsoleRows(), 'E2E_CHILD_LINE from pid') > 0, 120_000);
      // A second copy (js-debug's console API event beside the forwarded stdout) comes within milliseconds of the first.
      await delay(3_000);
      const rows = await wb().debugConsoleRows();
      await wb().screenshot('debug-console-child-line');
      assert.equal(count(rows, 'E2E_CHILD_LINE from pid'), 1, `the child's line once:\n${rows.join('\n')}`);
      assert.equal(count(rows, 'E2E_MAIN_LINE'), 1, `the main process's line once:\n${rows.join('\n')}`);
      await stopAndExpectNoProcess();
    } catch (error) {
      await failWithEvidence('debug-console-failure', error);
    }
  });
});
