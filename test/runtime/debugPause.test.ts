// The debugger sentinel and pool task timeouts: a worker paused at a breakpoint longer than its task's timeout is
// not killed and finishes after resume; a genuinely slow task still times out; a released worker's `debugger`
// statement does not park it. Real processes, the real hub, a real CDP client standing in for js-debug.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Hub, type AnnouncedProcess } from '../../hub/hub';
import { DEBUG_HANDSHAKE } from '../../runtime/src/protocol';
import { REPO_ROOT } from './runProgram';

const require = createRequire(__filename);
// chrome-remote-interface ships no types; the few calls used here are typed at this seam.
interface Cdp {
  send(method: string, params?: object): Promise<any>;
  on(event: string, listener: (params: any) => void): void;
  close(): Promise<void>;
}
const CDP = require('chrome-remote-interface') as (options: { target: string; local?: boolean }) => Promise<Cdp>;

const fixture = join(REPO_ROOT, 'test', 'fixtures', 'debug-pause.cjs');
const pauseLine = readFileSync(fixture, 'utf8')
  .split('\n')
  .findIndex((l) => l.includes('// PAUSE_LINE'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  ok: boolean;
  value: unknown;
  elapsed: number;
  /** `pid/threadId` of the worker before and after the timed task. */
  before: string;
  after: string;
}

/** What the test's stand-in debugger does with each announced process. */
type OnProcess = (process: AnnouncedProcess, cdp: Cdp) => Promise<void>;

/** Runs the fixture under a debugging hub; every process is handed to `onProcess` once it waits for its debugger. */
async function run(mode: string, timeoutMs: number, onProcess: OnProcess, startMethod = 'spawn'): Promise<{ outcome: Outcome; stderr: string }> {
  const hub = new Hub({ debug: true, sampleIntervalMs: false });
  const { env } = await hub.start();
  const sessions: Cdp[] = [];
  const failures: unknown[] = [];
  let stdout = '';
  let stderr = '';
  hub.onProcess((p) => {
    if (!p.inspectorUrl) return;
    void (async () => {
      const cdp = await CDP({ target: p.inspectorUrl!, local: true });
      if (stdout.includes('\n')) return void cdp.close();
      sessions.push(cdp);
      await untilParked(cdp);
      await onProcess(p, cdp);
    })().catch((error) => failures.push(error));
  });
  const child = spawn(process.execPath, [fixture, mode, String(timeoutMs), startMethod], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, FORKSCOPE_DEBUG_WAIT_MS: '20000' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // Node keeps a process whose debugger is still connected alive at exit: the stand-in debugger leaves once
  // the program has printed its outcome, as a user would press Continue and let it end.
  const closeSessions = () => Promise.all(sessions.splice(0).map((s) => s.close().catch(() => {})));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    if (stdout.includes('\n')) void closeSessions();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const deadline = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 60_000);
  try {
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.deepEqual(failures, []);
    assert.equal(code, 0, `the program failed:\n${stdout}\n${stderr}`);
    return { outcome: JSON.parse(stdout.trim().split('\n').pop()!) as Outcome, stderr };
  } finally {
    clearTimeout(deadline);
    await closeSessions();
    await hub.close();
  }
}

/** A debugger's runIfWaitingForDebugger is lost if sent before the process parks: wait for it, as the adapter does. */
async function untilParked(cdp: Cdp): Promise<void> {
  const expression = `globalThis[Symbol.for(${JSON.stringify(DEBUG_HANDSHAKE.waitingFlag)})] === true`;
  for (let i = 0; i < 1000; i++) {
    const reply = await cdp.send('Runtime.evaluate', { expression, returnByValue: true });
    if (reply.result?.value === true) return;
    await sleep(10);
  }
  throw new Error('the process never waited for its debugger');
}

/** Attached and running, no breakpoint: a connected debugger that never pauses. */
const attachOnly: OnProcess = async (_p, cdp) => {
  await cdp.send('Runtime.runIfWaitingForDebugger');
};

describe('pool task timeout under a debugger', { timeout: 120_000 }, () => {
  it('does not kill a worker paused at a breakpoint past the timeout; the task completes after resume', async () => {
    const timeout = 1_000;
    let pausedFor = 0;
    const { outcome } = await run('held', timeout, async (p, cdp) => {
      if (p.role !== 'worker') return attachOnly(p, cdp);
      cdp.on('Debugger.paused', (event) => {
        if (event.callFrames[0]?.location.lineNumber !== pauseLine) return void cdp.send('Debugger.resume').catch(() => {});
        const t0 = Date.now();
        // Held for three timeouts, the way a user sits at a breakpoint.
        void sleep(3 * timeout).then(() => {
          pausedFor = Date.now() - t0;
          return cdp.send('Debugger.resume');
        });
      });
      await cdp.send('Debugger.enable');
      await cdp.send('Debugger.setBreakpointByUrl', { lineNumber: pauseLine, url: pathToFileURL(fixture).href });
      await cdp.send('Runtime.runIfWaitingForDebugger');
    });
    assert.ok(pausedFor >= 3 * timeout, 'the breakpoint was hit and held');
    assert.deepEqual({ ok: outcome.ok, value: outcome.value }, { ok: true, value: 42 });
    assert.ok(outcome.elapsed >= 3 * timeout, `the task waited for the resume (${outcome.elapsed} ms)`);
    assert.equal(outcome.after, outcome.before, 'the same worker lives on');
  });

  it('does not kill a thread worker paused at a breakpoint (reached through its process inspector, NodeWorker)', async () => {
    const timeout = 1_000;
    let pausedFor = 0;
    const { outcome } = await run(
      'held',
      timeout,
      async (p, cdp) => {
        if (p.role !== 'main') return attachOnly(p, cdp);
        // js-debug's way to a worker thread: the NodeWorker domain of its process's inspector.
        const toWorker = (sessionId: string, id: number, method: string, params: object = {}) =>
          cdp.send('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(() => {});
        cdp.on('NodeWorker.attachedToWorker', ({ sessionId }) => {
          void toWorker(sessionId, 1, 'Debugger.enable')
            .then(() => toWorker(sessionId, 2, 'Debugger.setBreakpointByUrl', { lineNumber: pauseLine, url: pathToFileURL(fixture).href }))
            .then(() => toWorker(sessionId, 3, 'Runtime.runIfWaitingForDebugger'));
        });
        cdp.on('NodeWorker.receivedMessageFromWorker', ({ sessionId, message }) => {
          const m = JSON.parse(message);
          if (m.method !== 'Debugger.paused') return;
          if (m.params.callFrames[0]?.location.lineNumber !== pauseLine) return void toWorker(sessionId, 9, 'Debugger.resume');
          const t0 = Date.now();
          void sleep(3 * timeout).then(() => {
            pausedFor = Date.now() - t0;
            return toWorker(sessionId, 10, 'Debugger.resume');
          });
        });
        await cdp.send('NodeWorker.enable', { waitForDebuggerOnStart: true });
        await cdp.send('Runtime.runIfWaitingForDebugger');
      },
      'thread',
    );
    assert.ok(pausedFor >= 3 * timeout, 'the breakpoint was hit in the thread and held');
    assert.deepEqual({ ok: outcome.ok, value: outcome.value }, { ok: true, value: 42 });
    assert.equal(outcome.after, outcome.before, 'the same thread lives on');
  });

  it('still times out a genuinely slow task in a debugged worker, and replaces the worker', async () => {
    const timeout = 800;
    const { outcome } = await run('slow', timeout, attachOnly);
    assert.equal(outcome.ok, false);
    assert.match(String(outcome.value), /^TimeoutError: task \d+ \(slow\) timed out after 800 ms/);
    assert.ok(outcome.elapsed < 5 * timeout, `it did not wait for the task (${outcome.elapsed} ms)`);
    assert.notEqual(outcome.after, outcome.before, 'the timed-out worker was killed and replaced');
  });

  it('gives back the time the parent sat paused (all-stop): its timer firing right after Continue kills nothing', async () => {
    const timeout = 1_000;
    let pausedFor = 0;
    const { outcome } = await run('parent', timeout, async (p, cdp) => {
      if (p.role !== 'main') return attachOnly(p, cdp);
      cdp.on('Debugger.paused', () => {
        const t0 = Date.now();
        void sleep(3 * timeout).then(() => {
          pausedFor = Date.now() - t0;
          return cdp.send('Debugger.resume');
        });
      });
      await cdp.send('Debugger.enable');
      await cdp.send('Runtime.runIfWaitingForDebugger');
    });
    assert.ok(pausedFor >= 3 * timeout, 'the parent was held at its debugger statement');
    assert.deepEqual({ ok: outcome.ok, value: outcome.value }, { ok: true, value: timeout / 2 });
    assert.equal(outcome.after, outcome.before, 'the worker was not killed');
  });

  it('lets a released worker run past a debugger statement (a same-thread sentinel session alone never holds the thread)', async () => {
    const { outcome } = await run('stops', 20_000, async (_p, cdp) => {
      // Released as the adapter releases a process it does not attach: runIfWaitingForDebugger, then gone.
      await cdp.send('Runtime.runIfWaitingForDebugger');
      await cdp.close();
    });
    assert.deepEqual({ ok: outcome.ok, value: outcome.value }, { ok: true, value: 42 });
    assert.equal(outcome.after, outcome.before);
  });
});
