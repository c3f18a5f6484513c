// "Debug this worker" in a real VS Code (code-server) in real Chromium: a real redis-server on loopback, one
// `forkscope worker --debug-key` as a process group of its own (a host), and a program in the workspace that sends
// slow tasks to it through getContext('bullmq'), run under the `forkscope` debug type. The view's Remote workers
// panel shows the worker; its button takes the Redis URL from the launch configuration, asks for the debug key,
// relays the worker's inspector through Redis and attaches js-debug; a breakpoint in the task's function (set in the
// workspace file) is hit in the worker. Stop ends the program and the relay; the worker goes on, detached.
// Uses test/e2e/harness.ts and the bullmq tests' cluster (test/runtime/bullmqCluster.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { callStackSessions, programProcessesUnder, REPO_ROOT, showCallStack, waitFor, workbenchSuite, type SessionView } from './harness';
import { isRunning, killQuietly } from './processes';
import { startRedis, startWorker, type Redis, type Worker } from '../runtime/bullmqCluster';
import { join } from 'node:path';

const TASKS = `// The task the remote worker runs.
import { setTimeout as sleep } from 'node:timers/promises';

export async function slowTask(n: number): Promise<{ n: number; pid: number }> {
  await sleep(300);
  const doubled = n * 2; // TASK_LINE
  return { n: doubled, pid: process.pid };
}
`;
const TASK_LINE = TASKS.split('\n').findIndex((l) => l.includes('// TASK_LINE')) + 1;

const PROGRAM = `// Sends slow tasks to the cluster until stopped.
import { getContext } from 'forkscope';
import { slowTask } from './tasks';

async function main(): Promise<void> {
  const ctx = getContext('bullmq', { connection: process.env.FORKSCOPE_BACKEND!, prefix: process.env.CLUSTER_PREFIX! });
  const pool = new ctx.Pool({ processes: 2 });
  for (let round = 0; ; round++) {
    try {
      const done = await pool.map(slowTask, [1, 2, 3, 4], { chunksize: 1 });
      console.log(\`round \${round}: \${done.map((d) => d.n).join(' ')}\`);
    } catch (error) {
      // A job whose worker sat at a breakpoint past its lock is retried or failed: go on with the next round.
      console.log(\`round \${round} failed: \${(error as Error).message}\`);
    }
  }
}

void main();
`;

const KEY = 'e2e-remote-debug-key-0123456789';
const PREFIX = `e2e${process.pid}`;
const WORKER = 'hostA';

describe('Debug this worker (bullmq) in code-server', { timeout: 480_000 }, () => {
  let redis: Redis | undefined;
  let worker: Worker | undefined;
  const launch: object[] = [];
  before(async () => {
    redis = await startRedis();
    launch.push({
      type: 'forkscope',
      request: 'launch',
      name: 'Cluster program',
      program: '${workspaceFolder}/main.ts',
      env: { FORKSCOPE_BACKEND: redis.url, CLUSTER_PREFIX: PREFIX },
    });
  });
  const suite = workbenchSuite({
    name: 'remote-debug',
    leftovers: 'kill',
    // The worker names the workspace (its --root) but is no process of the program: it stands for another host.
    programProcesses: (workspace) => programUnder(workspace),
    workspace: { files: { 'main.ts': PROGRAM, 'tasks.ts': TASKS }, links: { node_modules: join(REPO_ROOT, 'node_modules') }, launch },
  });
  const workerPids = (): Set<number> => {
    const pids = new Set<number>();
    const pid = worker?.child.pid;
    if (!pid) return pids;
    pids.add(pid);
    try {
      for (const line of execFileSync('ps', ['-eo', 'pid=,pgid='], { encoding: 'utf8' }).split('\n')) {
        const [p, g] = line.trim().split(/\s+/).map(Number);
        if (g === pid && p) pids.add(p);
      }
    } catch {
      // ps missing: the leader alone.
    }
    return pids;
  };
  const programUnder = (workspace: string) => {
    const ours = workerPids();
    return programProcessesUnder(workspace).filter((p) => !ours.has(p.pid));
  };
  before(async () => {
    worker = await startWorker(redis!.url, WORKER, ['--prefix', PREFIX, '--root', suite.workspace, '--debug-key', KEY, '--concurrency', '2']);
  });
  after(async () => {
    worker?.signal('SIGKILL');
    await worker?.exited;
    await redis?.dispose();
  });
  const wb = () => suite.wb;

  /** The Program view's frame, with the Forkscope container shown. */
  async function view(): Promise<Frame> {
    const page = wb().page;
    const item = page.locator('.activitybar .action-item:has(a[aria-label^="Forkscope"])');
    if (!(await item.evaluate((e) => e.classList.contains('checked')))) await item.locator('a').click();
    return wb().frameWith('#root', 60_000);
  }

  /** Types `text` into the open input box and presses Enter. */
  async function answer(what: string, text: string): Promise<void> {
    const page = wb().page;
    await waitFor(
      `the input box asking for ${what}`,
      () =>
        page.evaluate((w) => {
          const box = document.querySelector('.quick-input-widget');
          return !!box && (box as HTMLElement).style.display !== 'none' && (box.textContent ?? '').includes(w);
        }, what),
      30_000,
    );
    const input = page.locator('.quick-input-widget input').first();
    await input.fill(text);
    await input.press('Enter');
  }

  it('attaches to the remote worker from the view; a breakpoint in the task is hit in the worker; Stop leaves the worker running, detached', async () => {
    const page = wb().page;
    const started = Date.now();
    try {
      await wb().openFile('tasks.ts');
      await wb().goToLine(TASK_LINE);
      await wb().toggleBreakpoint();
      await view();
      await wb().runCommand('Debug: Start Debugging');
      // The view shows the cluster with the worker, alive, and its button.
      const button = await waitFor(
        'the Remote workers panel with the live worker',
        async () => {
          const f = await view();
          const b = f.locator(`button[aria-label="Debug worker ${WORKER} on ${WORKER}"]`);
          return (await b.count()) > 0 ? b : null;
        },
        150_000,
      );
      const panel = await (await view()).evaluate(() => Array.from(document.querySelectorAll('.cluster-worker')).map((e) => e.textContent ?? ''));
      console.log(`# cluster panel after ${Date.now() - started} ms: ${panel.join(' | ')}`);
      assert.ok(
        panel.some((t) => t.includes(WORKER) && t.includes(`pid ${worker!.child.pid}`)),
        `the worker with its pid: ${panel.join(' | ')}`,
      );
      await wb().screenshot('remote-debug-panel');
      await button.first().click();
      // The Redis URL comes from the program's launch configuration (FORKSCOPE_BACKEND); the key, a secret, is asked for
      // (a box asking for Redis instead would time this out).
      await answer('debug key', KEY);
      await showCallStack(wb());
      const hit = await waitFor(
        'the remote worker paused at the breakpoint in tasks.ts',
        async () => {
          const all = [...(await callStackSessions(wb()))];
          const found = all.find(
            ([name, v]) =>
              name.includes(`${WORKER} · remote worker`) &&
              /Paused on breakpoint/i.test(v.state) &&
              new RegExp(`(^|/)tasks\\.ts:${TASK_LINE}:`).test(v.top ?? ''),
          );
          return found ? all : null;
        },
        120_000,
      ).catch(async (error: unknown) => {
        console.log(JSON.stringify([...(await callStackSessions(wb()).catch(() => new Map<string, SessionView>()))], null, 1));
        console.log(
          await wb()
            .notifications()
            .catch(() => []),
        );
        console.log(worker!.output());
        throw error;
      });
      console.log(`# breakpoint hit in the worker ${Date.now() - started} ms after Start: ${JSON.stringify(hit)}`);
      assert.match(worker!.output(), /debugger attached through Redis/);
      // The worker's relay is a process of its own, not a thread the debugger would list (and could pause) beside it.
      assert.deepEqual(
        hit.map(([name]) => name).filter((name) => /\[worker \d+\]/.test(name)),
        [],
        `no thread of the worker's besides its main one: ${hit.map(([n]) => n).join(' | ')}`,
      );
      await wb().screenshot('remote-debug-paused');

      // Stop every session: the program's processes and the relay end; the worker, another host, goes on detached.
      for (let i = 0; i < 6 && (await wb().callStackRows()).length > 0; i++) {
        await page.keyboard.press('Escape');
        await page.keyboard.press('Shift+F5');
        await waitFor('a session to end', async () => (await wb().callStackRows()).length === 0, 5_000).catch(() => undefined);
      }
      await waitFor('the Call Stack to empty', async () => (await wb().callStackRows()).length === 0, 30_000);
      const left = await waitFor('every process of the program and the relay to end', () => (suite.programProcesses().length === 0 ? [] : null), 30_000).catch(
        () => suite.programProcesses(),
      );
      assert.deepEqual(
        left.map((p) => `${p.pid} ${p.cmdline}`),
        [],
        'no process of the program or relay survives Stop',
      );
      await waitFor('the worker to say the debugger detached', () => /debugger detached/.test(worker!.output()), 30_000);
      assert.ok(isRunning(worker!.child.pid!), 'the worker goes on after the debugger left');
      await waitFor("the worker's relay process to end", () => ![...workerPids()].some((pid) => pid !== worker!.child.pid), 10_000);
      console.log(`# whole run ${Date.now() - started} ms`);
    } catch (error) {
      await wb()
        .screenshot('remote-debug-failure')
        .catch(() => undefined);
      for (const p of suite.programProcesses()) killQuietly(p.pid, 'SIGKILL');
      throw error;
    }
  });
});
