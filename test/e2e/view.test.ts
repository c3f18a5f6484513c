// The Program view in a real VS Code (code-server) in real Chromium: programs run under the `forkscope`
// debug type and the view shows their tree, queues, pipes, locks and deadlocks; the single-process toggle
// restarts the program and the view follows; then the seed examples run in turn in the same workbench.
// Uses test/e2e/harness.ts only; screenshots in test-results/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { processesOf, REPO_ROOT, waitFor, workbenchSuite } from './harness';

const PROGRAM = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'view-program.ts'), 'utf8');
// A fixture deadlock that holds until stopped (the view's own test); examples/deadlock.ts is run below as well.
const DEADLOCK = join(REPO_ROOT, 'test', 'fixtures', 'view-deadlock.ts');
const EXAMPLES = join(REPO_ROOT, 'examples');
/** The seed examples run as users run them (cwd = the repository, `forkscope` from its node_modules). */
const EXAMPLE_RUNS = ['pool_square', 'producer_consumer', 'pipe_sender_receiver', 'deadlock', 'calculate_e'];
// Marks this file's example runs in their environment: other engineers may run the same examples meanwhile.
const RUN_TOKEN = `view-e2e-${process.pid}-${Date.now()}`;
const isOurs = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`FORKSCOPE_VIEW_E2E_RUN=${RUN_TOKEN}`);
  } catch {
    return false;
  }
};

describe('Program view in code-server', { timeout: 600_000 }, () => {
  const suite = workbenchSuite({
    name: 'view',
    leftovers: 'fail',
    settings: { 'forkscope.view.maxUpdatesPerSecond': 10 },
    workspace: {
      files: { 'program.ts': PROGRAM },
      links: {
        // The programs import `forkscope` and run through tsx, as in a project that installed both.
        node_modules: join(REPO_ROOT, 'node_modules'),
        // Lets the editor show an example's source beside the view (they run from the repository, see below).
        examples: EXAMPLES,
      },
      launch: [
        // Children run without a debugger each, so the machine's two cores go to the program and the view.
        { type: 'forkscope', request: 'launch', name: 'Program', program: '${workspaceFolder}/program.ts', attach: 'none' },
        { type: 'forkscope', request: 'launch', name: 'Deadlock', program: DEADLOCK, cwd: REPO_ROOT, attach: 'none', env: { VIEW_DEADLOCK_HOLD_MS: '120000' } },
        // deadlock.ts gives up its second acquire after DEADLOCK_WAIT_MS: long enough to look at, then Stop ends it.
        ...EXAMPLE_RUNS.map((name) => ({
          type: 'forkscope',
          request: 'launch',
          name: `Example ${name}`,
          program: join(EXAMPLES, `${name}.ts`),
          cwd: REPO_ROOT,
          attach: 'none',
          env: { FORKSCOPE_VIEW_E2E_RUN: RUN_TOKEN, ...(name === 'deadlock' ? { DEADLOCK_WAIT_MS: '120000' } : {}) },
        })),
      ],
    },
    programProcesses: (workspace) =>
      [
        ...processesOf(workspace),
        ...processesOf(join(REPO_ROOT, 'test', 'fixtures')),
        // An example's children may not name the example in their command line: the run's mark finds them.
        ...processesOf(REPO_ROOT).filter((p) => isOurs(p.pid)),
      ].filter((p, i, all) => (/program\.ts|view-deadlock/.test(p.cmdline) || isOurs(p.pid)) && all.findIndex((q) => q.pid === p.pid) === i),
  });
  const wb = () => suite.wb;
  const programProcesses = () => suite.programProcesses();

  /** The Program view's frame, with the Forkscope container shown (a hidden view gets no updates, by design). */
  async function view(): Promise<Frame> {
    const page = wb().page;
    const item = page.locator('.activitybar .action-item:has(a[aria-label^="Forkscope"])');
    if (!(await item.evaluate((e) => e.classList.contains('checked')))) await item.locator('a').click();
    return wb().frameWith('#root', 60_000);
  }

  const text = (frame: Frame, selector: string) => frame.evaluate((s) => Array.from(document.querySelectorAll(s)).map((e) => e.textContent ?? ''), selector);

  async function stop(): Promise<void> {
    await wb().page.keyboard.press('Escape');
    await wb().page.keyboard.press('Shift+F5');
    try {
      await waitFor('every process of the program to end', () => programProcesses().length === 0, 30_000);
    } catch {
      // A notification (the deadlock's) can hold the keyboard focus, so Shift+F5 never reached the debugger: say what
      // is still running, then stop through the command, which must end them all.
      const left = programProcesses().map((p) => `${p.pid} ${p.cmdline.slice(0, 120)}`);
      console.log(`# still running after Shift+F5: ${left.join(' | ')}`);
      await wb().runCommand('Debug: Stop');
      await waitFor(`every process of the program to end (left after Shift+F5: ${left.join(' | ')})`, () => programProcesses().length === 0, 60_000);
    }
  }

  it('shows the running program: tree with a killed child, pool workers, hostile names as text', async () => {
    let frame = await view();
    await wb().openFile('program.ts');
    await wb().runCommand('Debug: Start Debugging');
    frame = await view();
    const rows = await waitFor(
      'the view to show the main process, pool workers, a killed child and pipe traffic',
      async () => {
        const f = await view();
        const r = await text(f, '.process-row');
        const ok = r.some((t) => t.includes('MainProcess')) && r.some((t) => /SpawnPoolWorker/.test(t)) && r.some((t) => /killed by SIGKILL/.test(t));
        // Under the debugger each child runs once js-debug has attached it: the sender's first message can come after
        // the doomed child's kill.
        const sent = (await text(f, '.object.pipe')).some((t) => /[1-9]\d* messages/.test(t));
        return ok && sent ? r : null;
      },
      120_000,
    );
    frame = await view();
    assert.ok(
      rows.some((t) => t.includes('<img src=x onerror="window.__pwned=1">')),
      `the hostile name shows as text: ${rows.join(' | ')}`,
    );
    assert.equal(await frame.evaluate(() => document.querySelectorAll('#root img').length), 0);
    assert.equal(await frame.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    const killed = await frame.evaluate(() => Array.from(document.querySelectorAll('.process-row.dead')).map((e) => e.textContent ?? ''));
    assert.ok(
      killed.some((t) => /killed by SIGKILL/.test(t)),
      'the killed child is greyed with how it died',
    );
    const session = await frame.evaluate(() => document.querySelector('.session-name')?.textContent ?? '');
    assert.match(session, /Program/);
    const panels = await text(frame, '.object');
    assert.ok(
      panels.some((t) => /Pool/.test(t)),
      'the pool shows',
    );
    assert.ok(
      panels.some((t) => /Queue[\s\S]*\/ 5/.test(t)),
      'the bounded queue shows with its maxsize',
    );
    assert.ok(
      panels.some((t) => /[1-9]\d* messages · [\d.]+ (B|KB|MB) in all/.test(t)),
      `pipe and channel traffic shows in bytes: ${panels.join(' | ')}`,
    );
    assert.ok(
      panels.some((t) => /Lock/.test(t)),
      'the lock shows',
    );
    const managers = await text(frame, '.object.manager');
    assert.ok(
      managers.some((t) => /[3-9]\d* calls[\s\S]*\.set 3\b[\s\S]*MainProcess/.test(t)),
      `the manager's panel counts main's three dict.set calls: ${managers.join(' | ')}`,
    );
    console.log(`# view rows: ${rows.join(' | ')}`);
    console.log(`# view panels: ${panels.join(' | ')}`);
    await wb().screenshot('view-e2e-program');
  });

  it('lists the processes in the native Processes tree of Run and Debug; a click in the view brings the Call Stack forward', async () => {
    const page = wb().page;
    await page.keyboard.press('Control+Shift+D');
    // A view added to Run and Debug starts collapsed at the bottom: expand its pane.
    await waitFor(
      'the Processes pane, expanded',
      () =>
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
      await wb().screenshot('view-e2e-processes-tree-failure');
      throw error;
    });
    await wb().screenshot('view-e2e-processes-tree');
    console.log(`# tree rows: ${rows.join(' | ')}`);
    assert.ok(
      rows.some((t) => /MainProcess/.test(t) && /\d+ · (running|waiting)/.test(t)),
      `the main process with pid and state: ${rows.join(' | ')}`,
    );
    const frame = await view();
    await frame.locator('.process-row', { hasText: 'MainProcess' }).locator('.name-text').click();
    // The host checks the pid against the session's table and brings the Call Stack forward (VS Code has no
    // public API that selects one session in it: `debug.activeDebugSession` is read-only at run time).
    await waitFor(
      'the Call Stack to come forward with the program session',
      async () => (await wb().callStackRows()).some((r) => r.kind === 'session' && /Program/.test(r.name)),
      30_000,
    );
    assert.equal(
      await page.locator('.activitybar .action-item:has(a[aria-label^="Forkscope"])').evaluate((e) => e.classList.contains('checked')),
      false,
      'Run and Debug replaced the Forkscope container',
    );
  });

  it('pauses and continues one process from its row; the view shows it paused meanwhile', async () => {
    // A click on the name would reveal the session and hide the view; the row's own buttons do not.
    const main = async () => (await view()).locator('.process-row', { hasText: 'MainProcess' });
    const state = async () => (await main()).locator('.state-text').textContent();
    await (await main()).getByRole('button', { name: 'Pause this process' }).click();
    await waitFor('the main process to show as paused', async () => /paused in the debugger/.test((await state()) ?? ''), 60_000);
    await wb().screenshot('view-e2e-paused');
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
        return f.evaluate(
          () =>
            document.querySelector('[role="switch"]')?.getAttribute('aria-checked') === 'true' &&
            !(document.querySelector('.badge.single') as HTMLElement | null)?.hidden,
        );
      },
      120_000,
    );
    await wb().screenshot('view-e2e-single-process');
    await stop();
    const after = await view();
    await waitFor(
      'the view to mark the session ended',
      () => after.evaluate(() => /\(ended\)/.test(document.querySelector('.session-name')?.textContent ?? '')),
      30_000,
    );
  });

  it('draws a deadlock found by the hub and names both locations in a notification', async () => {
    await wb().runCommand('Debug: Select and Start Debugging');
    await wb().quickPick('Deadlock', 30_000);
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
    const notice = await waitFor(
      'the deadlock notification',
      async () => (await wb().notifications()).find((n) => /deadlock at view-deadlock-child\.ts:[67] and view-deadlock-child\.ts:[67]/.test(n)),
      30_000,
    );
    assert.match(notice, /deadlock/);
    await wb().screenshot('view-e2e-deadlock');
    await stop();
  });
  /** Starts `Example <name>` from launch.json; resolves once the view follows its session. */
  async function launchExample(name: string): Promise<void> {
    await waitFor('the previous program to end', () => programProcesses().length === 0, 60_000);
    await wb().runCommand('Debug: Select and Start Debugging');
    await wb().quickPick(`Example ${name}`, 30_000);
    await waitFor(
      `the view to follow the ${name} session`,
      async () => {
        const f = await view();
        return f.evaluate((want) => (document.querySelector('.session-name')?.textContent ?? '').includes(want), `Example ${name}`);
      },
      60_000,
    );
  }

  /** Polls the view until `probe` (run in the webview) returns a value; screenshots the failure. */
  async function seeInView<T>(what: string, shot: string, probe: () => T | null): Promise<T> {
    return waitFor(what, async () => (await view()).evaluate(probe), 120_000).catch(async (error: unknown) => {
      await wb().screenshot(`${shot}-failure`);
      throw error;
    });
  }

  it('runs the seed examples under the forkscope debug type: pool, queue, pipe, deadlock and Event each show', async () => {
    // pool_square: Pool(5).map(square, 9 items), then Pool(4).map(workLog, 4 items).
    await launchExample('pool_square');
    const pool = await seeInView('a pool with workers and done tasks', 'view-e2e-example-pool', () => {
      // Read element by element: a row's textContent runs its figures together ("running9 done").
      const pools = Array.from(document.querySelectorAll('.object.pool')).map((e) => ({
        text: Array.from(e.querySelectorAll('.object-title, .metric'))
          .map((m) => m.textContent ?? '')
          .join(', '),
        done: Math.max(0, ...Array.from(e.querySelectorAll('.tasks .metric')).map((m) => Number(/^(\d+) done$/.exec(m.textContent ?? '')?.[1] ?? 0))),
        workers: e.querySelectorAll('.worker-cell').length,
      }));
      const rows = Array.from(document.querySelectorAll('.process-row')).map((e) => e.textContent ?? '');
      // Both pools finished: Pool(5) with its 9 items, then Pool(4).map(workLog, 4 items that sleep), where
      // each worker takes one, so all four show with their task done. (Every pool lists all its workers.)
      const finished = pools.filter((p) => p.done >= 4 && p.workers >= 4);
      return finished.length >= 2 && rows.some((r) => /PoolWorker/.test(r)) ? { pools, rows } : null;
    });
    console.log(`# pool_square pools: ${pool.pools.map((p) => `${p.workers} workers: ${p.text}`).join(' | ')}`);
    assert.ok(
      pool.pools.some((p) => /Pool/.test(p.text) && p.done === 9 && p.workers === 5),
      `Pool(5).map over 9 items shows its 5 workers and 9 done: ${JSON.stringify(pool.pools)}`,
    );
    await wb().screenshot('view-e2e-example-pool');

    // producer_consumer: MainProcess and Process-1 put, Process-2 gets, over one Queue.
    await launchExample('producer_consumer');
    const queue = await seeInView('the queue with puts, gets, producers and consumers', 'view-e2e-example-queue', () => {
      const q = document.querySelector('.object.queue');
      const text = Array.from(q?.querySelectorAll('.object-line > .muted') ?? [])
        .map((e) => e.textContent ?? '')
        .join(', ');
      const counts = /^(\d+) put · (\d+) got$/m.exec(text.replace(/, /g, '\n'));
      const depth = Number(q?.querySelector('.metric-value')?.textContent ?? 0);
      const flow = q?.querySelector('.flow')?.textContent ?? '';
      const rows = Array.from(document.querySelectorAll('.process-row')).map((e) => e.textContent ?? '');
      const ok = counts && Number(counts[1]) > 0 && Number(counts[2]) > 0 && /Process-1/.test(flow) && /consumers.*Process-2/.test(flow);
      return ok && rows.some((r) => /Process-1/.test(r)) && rows.some((r) => /Process-2/.test(r))
        ? { text, depth, flow, sparkline: q?.querySelector('.sparkline')?.getAttribute('aria-label') ?? '' }
        : null;
    });
    const deepest = Math.max(queue.depth, Number(/to (\d+)$/.exec(queue.sparkline)?.[1] ?? 0));
    console.log(`# producer_consumer queue: ${queue.text} (depth ${queue.depth}; ${queue.sparkline}; deepest seen ${deepest})`);
    // The main process puts 'xyz' before the consumer child has even started: the depth is 1 or more for a while.
    assert.ok(deepest >= 1, `a non-zero queue depth shows: ${queue.sparkline}`);
    await wb().screenshot('view-e2e-example-queue');

    // pipe_sender_receiver: four messages from Process-1 to Process-2.
    await launchExample('pipe_sender_receiver');
    const pipe = await seeInView('the pipe with its messages and bytes', 'view-e2e-example-pipe', () => {
      const p = Array.from(document.querySelectorAll('.object.pipe')).find((e) =>
        Array.from(e.querySelectorAll('.muted')).some((m) => /^[1-9]\d* messages · [\d.]+ (B|KB) in all$/.test(m.textContent ?? '')),
      );
      const ends = p?.querySelector('.flow')?.textContent ?? '';
      return p && /Process-1/.test(ends) && /Process-2/.test(ends) ? (p.textContent ?? '') : null;
    });
    console.log(`# pipe_sender_receiver pipe: ${pipe}`);
    await wb().screenshot('view-e2e-example-pipe');

    // deadlock: alice holds one lock and waits for the other, bob the reverse; the wait is long enough to look at.
    await launchExample('deadlock');
    const cycle = await seeInView('the deadlock cycle between alice and bob', 'view-e2e-example-deadlock', () => {
      const section = document.querySelector('.deadlocks') as HTMLElement | null;
      return section && !section.hidden && section.querySelectorAll('.cycle-node').length === 4 ? (section.textContent ?? '') : null;
    });
    assert.match(cycle, /alice · \d+ waits for .+? at deadlock\.ts:13, held by bob · \d+/);
    assert.match(cycle, /bob · \d+ waits for .+? at deadlock\.ts:13, held by alice · \d+/);
    const holders = await (await view()).evaluate(() => Array.from(document.querySelectorAll('.object.sync')).map((e) => e.textContent ?? ''));
    assert.ok(
      holders.some((t) => /held by alice · \d+/.test(t)) && holders.some((t) => /held by bob · \d+/.test(t)),
      `each lock shows its holder: ${holders.join(' | ')}`,
    );
    assert.ok(
      holders.some((t) => /waiting/.test(t)),
      `the waiters show: ${holders.join(' | ')}`,
    );
    console.log(`# deadlock: ${cycle} | ${holders.join(' | ')}`);
    await wb().screenshot('view-e2e-example-deadlock');
    // The README's picture: the cycle beside the line both processes wait at (cosmetic: a miss only logs).
    try {
      await wb().openFile('examples/deadlock.ts');
      await wb()
        .goToLine(13)
        .catch(() => {}); // the status bar may lag; the file alone serves
      await view();
      await wb().screenshot('view-e2e-example-deadlock-source', { x: 0, y: 0, width: 1600, height: 1300 });
    } catch (error) {
      console.log(`# no deadlock picture beside its source: ${String(error)}`);
    }
    await stop();

    // calculate_e: a Process subclass named calculate_e_process spins until the main process sets its Event.
    await launchExample('calculate_e');
    const event = await seeInView('the Event and calculate_e_process', 'view-e2e-example-event', () => {
      const e = Array.from(document.querySelectorAll('.object.sync')).find(
        (s) => s.querySelector('.kind')?.textContent === 'Event' && /^(not )?set$/.test(s.querySelector('.badge')?.textContent ?? ''),
      );
      const rows = Array.from(document.querySelectorAll('.process-row')).map((r) => r.textContent ?? '');
      return e && rows.some((r) => /MainProcess/.test(r)) && rows.some((r) => /calculate_e_process/.test(r)) ? { event: e.textContent ?? '', rows } : null;
    });
    console.log(`# calculate_e: ${event.event} | ${event.rows.join(' | ')}`);
    await seeInView('the Event set by the main process', 'view-e2e-example-event-set', () =>
      Array.from(document.querySelectorAll('.object.sync .badge.ok')).some((b) => b.textContent === 'set') ? true : null,
    );
    await wb().screenshot('view-e2e-example-event');
    await waitFor('calculate_e to end by itself', () => programProcesses().length === 0, 60_000);
  });
});
