// The child side of debugging: a loopback inspector on a random port, and a wait that a debugger (or the
// watchdog) ends. Proven against real processes with a real CDP client.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { releaseIfStillParked, waitUntilWaiting } from '../../src/debug/inspectorRelease';

const require = createRequire(import.meta.url);
// chrome-remote-interface ships no types; the few calls used here are typed at this seam.
interface Cdp {
  send(method: string, params?: object): Promise<any>;
  on(event: string, listener: (params: any) => void): void;
  close(): Promise<void>;
}
const CDP = require('chrome-remote-interface') as (options: { target: string; local?: boolean }) => Promise<Cdp>;

const fixture = fileURLToPath(new URL('../fixtures/debug-waiter.cjs', import.meta.url));
const firstUserLine = readFileSync(fixture, 'utf8')
  .split('\n')
  .findIndex((l) => l.includes('FIRST_USER_LINE'));
const children = new Set<ChildProcess>();

after(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Started {
  child: ChildProcess;
  url: string | null;
  output: () => string;
  exited: Promise<number | null>;
}

async function start(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, FORKSCOPE_DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (children.delete(child), resolve(code))));
  const first = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.on('exit', () => reject(new Error(`fixture exited early: ${err}`)));
  });
  const { url } = JSON.parse(first) as { url: string | null };
  return { child, url, output: () => out + err, exited };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('openInspectorIfDebugging', { timeout: 60_000 }, () => {
  it('opens nothing without FORKSCOPE_DEBUG', async () => {
    const run = await start({});
    assert.equal(run.url, null);
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /user code ran/);
  });

  it('opens on 127.0.0.1 with a random port, never 9229 or 0.0.0.0', async () => {
    const a = await start({ FORKSCOPE_DEBUG: '1', FORKSCOPE_DEBUG_WAIT_MS: '0' });
    const b = await start({ FORKSCOPE_DEBUG: '1', FORKSCOPE_DEBUG_WAIT_MS: '0' });
    for (const run of [a, b]) {
      const url = new URL(run.url!);
      assert.equal(url.protocol, 'ws:');
      assert.equal(url.hostname, '127.0.0.1');
      assert.notEqual(url.port, '9229');
      assert.equal(await run.exited, 0);
    }
    assert.notEqual(new URL(a.url!).port, new URL(b.url!).port);
  });
});

describe('waitForDebuggerIfOpened', { timeout: 60_000 }, () => {
  it('holds user code until a debugger attaches; a breakpoint on the first user line is hit; resume runs it', async () => {
    const run = await start({ FORKSCOPE_DEBUG: '1' });
    const cdp = await CDP({ target: run.url!, local: true });
    try {
      await sleep(300);
      assert.doesNotMatch(run.output(), /user code ran/, 'user code ran before the debugger said so');
      const paused = new Promise<any>((resolve) => cdp.on('Debugger.paused', resolve));
      await cdp.send('Debugger.enable');
      await cdp.send('Debugger.setBreakpointByUrl', { lineNumber: firstUserLine, url: pathToFileURL(fixture).href });
      await cdp.send('Runtime.runIfWaitingForDebugger');
      const event = await paused;
      assert.equal(event.callFrames[0].location.lineNumber, firstUserLine);
      assert.doesNotMatch(run.output(), /user code ran/);
      await cdp.send('Debugger.resume');
      await waitFor(() => /user code ran/.test(run.output()));
    } finally {
      await cdp.close();
    }
    assert.equal(await run.exited, 0);
  });

  it('is released by a CDP runIfWaitingForDebugger alone (how the adapter releases a child it does not attach)', async () => {
    const run = await start({ FORKSCOPE_DEBUG: '1' });
    const cdp = await CDP({ target: run.url!, local: true });
    await cdp.send('Runtime.runIfWaitingForDebugger');
    await cdp.close();
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /user code ran/);
  });

  it('never parks forever: the watchdog releases the process when no debugger comes', async () => {
    const t0 = Date.now();
    const run = await start({ FORKSCOPE_DEBUG: '1', FORKSCOPE_DEBUG_WAIT_MS: '400' });
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /user code ran/);
    assert.match(run.output(), /runs without a debugger: no debugger attached within 400 ms/);
    assert.ok(Date.now() - t0 >= 400);
  });

  it('the adapter that finds it waiting takes over from the watchdog: no thread left for a debugger to list', async () => {
    const run = await start({ FORKSCOPE_DEBUG: '1', FORKSCOPE_DEBUG_WAIT_MS: '1500' });
    const workersSeenBy = async (url: string): Promise<string[]> => {
      const cdp = await CDP({ target: url, local: true });
      const titles: string[] = [];
      cdp.on('NodeWorker.attachedToWorker', (e) => titles.push(e.workerInfo.title));
      // The inspector lists the running workers (attachedToWorker) before it answers enable.
      await cdp.send('NodeWorker.enable', { waitForDebuggerOnStart: false });
      await cdp.close();
      return titles;
    };
    await waitFor(() => /"url"/.test(run.output()));
    // Other threads may be listed (tsx runs the fixture with one of its own); the watchdog is the one that matters.
    const watchdogs = async () => (await workersSeenBy(run.url!)).filter((title) => /forkscope debugger watchdog/.test(title));
    /** Asks the inspector until `done` holds of its watchdogs (the thread starts and ends on its own time), or 1 s passed. */
    const watchdogsUntil = async (done: (w: string[]) => boolean) => {
      let seen = await watchdogs();
      for (const end = Date.now() + 1_000; !done(seen) && Date.now() < end; ) seen = await watchdogs();
      return seen;
    };
    assert.equal((await watchdogsUntil((w) => w.length > 0)).length, 1, 'the watchdog thread, while nobody took over');
    await waitUntilWaiting(run.url!);
    assert.deepEqual(await watchdogsUntil((w) => w.length === 0), [], 'what js-debug would list once the adapter took over');
    const guards = orphanGuards();
    assert.equal(guards.filter((g) => g.parkedPid === run.child.pid).length, 1, 'a shell keeps the orphan checks');
    await sleep(1_500);
    assert.doesNotMatch(run.output(), /user code ran/, 'no watchdog releases it now: the adapter does');
    assert.equal(await releaseIfStillParked(run.url!), true);
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /user code ran/);
    assert.equal(await releaseIfStillParked(run.url!), false, 'a process that is gone is not released twice');
    await waitFor(() => !orphanGuards().some((g) => g.parkedPid === run.child.pid), 2_000);
  });

  it('a parked process whose watchdog was dismissed still ends when its session goes (no orphan)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fs-dbg-'));
    const hub = path.join(dir, 'hub.sock');
    writeFileSync(hub, '');
    const run = await start({ FORKSCOPE_DEBUG: '1', FORKSCOPE_HUB: hub });
    await waitUntilWaiting(run.url!);
    await sleep(300);
    assert.doesNotMatch(run.output(), /user code ran/);
    rmSync(dir, { recursive: true, force: true });
    const t0 = Date.now();
    const exit = await new Promise<string | null>((resolve) => run.child.once('exit', (_code, signal) => resolve(signal)));
    assert.equal(exit, 'SIGKILL', 'ended by its guard: a blocked thread runs no lifeline');
    assert.ok(Date.now() - t0 < 3_000);
    await waitFor(() => !orphanGuards().some((g) => g.parkedPid === run.child.pid), 2_000);
  });

  for (const endsWithParent of [true, false]) {
    it(`a dismissed watchdog's guard ${endsWithParent ? 'ends a parked runtime child whose parent died' : 'leaves a process that may outlive its parent parked for the adapter'}`, async () => {
      // A parent that starts the waiter, then is killed: the waiter's output comes through the pipe it inherited.
      const parent = spawn(
        process.execPath,
        [
          '-e',
          `require('node:child_process').spawn(process.execPath, ['--import', 'tsx', ${JSON.stringify(fixture)}], { stdio: 'inherit' }); setInterval(() => {}, 1000);`,
        ],
        {
          env: { ...process.env, FORKSCOPE_DEBUG: '1', DEBUG_WAITER_ENDS_WITH_PARENT: endsWithParent ? '1' : '' },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      children.add(parent);
      const line = await new Promise<string>((resolve) => {
        let out = '';
        parent.stdout!.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
        });
      });
      const waiter = JSON.parse(line) as { url: string; pid: number };
      const alive = () => {
        try {
          process.kill(waiter.pid, 0);
          return !readFileSync(`/proc/${waiter.pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
        } catch {
          return false;
        }
      };
      try {
        await waitUntilWaiting(waiter.url);
        parent.kill('SIGKILL');
        if (endsWithParent) {
          await waitFor(() => !alive(), 3_000);
        } else {
          await sleep(1_500);
          assert.ok(alive(), 'still parked: the adapter releases it');
          assert.equal(await releaseIfStillParked(waiter.url), true);
        }
      } finally {
        try {
          process.kill(waiter.pid, 'SIGKILL');
        } catch {}
      }
    });
  }

  it('releases the process when the hub socket of its session is gone', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fs-dbg-'));
    const hub = path.join(dir, 'hub.sock');
    writeFileSync(hub, '');
    const run = await start({ FORKSCOPE_DEBUG: '1', FORKSCOPE_HUB: hub });
    await sleep(300);
    assert.doesNotMatch(run.output(), /user code ran/);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /the debug session ended/);
  });
});

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}

/** The orphan guards alive on this machine, by the pid of the process each one watches. */
/**
 * The guard shells running now. A shell forks before it runs `sleep`, and for that moment its child has the same
 * command line: such a copy (a guard whose parent is a guard) is not a second guard.
 */
function orphanGuards(): Array<{ pid: number; parkedPid: number }> {
  const all: Array<{ pid: number; ppid: number; parkedPid: number }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0');
      if (args[3] !== 'forkscope-orphan-guard') continue;
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      all.push({ pid: Number(name), ppid, parkedPid: Number(args[4]) });
    } catch {}
  }
  const guardPids = new Set(all.map((g) => g.pid));
  return all.filter((g) => !guardPids.has(g.ppid)).map(({ pid, parkedPid }) => ({ pid, parkedPid }));
}
