// The `forkscope` adapter over DAP: launch, each process announced, a pwa-node child session asked for with the
// right configuration, unselected children released, terminate ends every process of the program.
// Real processes (test/fixtures/debug-tree.cjs) and the real launcher; the hub is a fake fed by the fixture,
// and the child-session sink is injected (DebugClient drops reverse requests) and acts as the debugger over CDP.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildSessionStarter } from '../../src/debug/attachCoordinator';
import { NodeLauncher, type ProgramHub } from '../../src/debug/nodeLauncher';
import { releaseInspector } from '../../src/debug/inspectorRelease';
import type { AnnouncedProcess } from '../../src/debug/programHost';
import { repo, startDebugClient, type DebugHarness } from './debugClient';
import { until } from './polling';

const fixture = fileURLToPath(new URL('../fixtures/debug-tree.cjs', import.meta.url));

/** A stand-in for hub/'s Hub: a Unix socket taking one JSON announcement per connection. */
class FakeHub implements ProgramHub {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'fs-dap-'));
  readonly address = path.join(this.dir, 'announce.sock');
  readonly #server: Server = createServer((socket) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (text += d));
    socket.on('end', () => {
      socket.end();
      for (const line of text.split('\n').filter(Boolean)) {
        const p = JSON.parse(line) as AnnouncedProcess;
        for (const l of this.#listeners) l(p);
      }
    });
  });
  readonly #listeners: Array<(p: AnnouncedProcess) => void> = [];
  closed = false;

  async start() {
    await new Promise<void>((resolve) => this.#server.listen(this.address, resolve));
    return { env: { FORKSCOPE_TEST_ANNOUNCE: this.address, FORKSCOPE_DEBUG: '1' } };
  }
  onProcess(listener: (p: AnnouncedProcess) => void) {
    this.#listeners.push(listener);
    return () => {};
  }
  /** Announces a process as if it had said hello (a worker thread of the program, say). */
  announce(p: AnnouncedProcess) {
    for (const l of this.#listeners) l(p);
  }
  async close() {
    this.closed = true;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every fake hub made, so cleanup finds every program even when a test timed out midway. */
const allHubs: FakeHub[] = [];

interface Harness extends DebugHarness {
  hub: FakeHub;
  /** Each child session asked for (the ones VS Code was made to refuse aside). */
  configurations: Array<Record<string, any>>;
}

/**
 * The adapter with the real launcher over a fake hub. Its child-session sink stands in for js-debug: it attaches
 * over CDP and lets the process run, unless `refuse(name)` makes it decline as VS Code may.
 */
async function startAdapter(refuse: (name: string) => boolean = () => false): Promise<Harness> {
  let hub!: FakeHub;
  const launcher = new NodeLauncher({
    createHub: () => {
      hub = new FakeHub();
      allHubs.push(hub);
      return hub;
    },
    tsxSearchPaths: [repo],
  });
  const configurations: Harness['configurations'] = [];
  const startChildSession: ChildSessionStarter = async (configuration) => {
    if (refuse(String(configuration.name))) return false;
    configurations.push(configuration);
    await releaseInspector(configuration.websocketAddress as string);
    return true;
  };
  const harness = await startDebugClient({ launcher, startChildSession, attachTimeoutMs: 15_000 });
  return {
    ...harness,
    configurations,
    get hub() {
      return hub;
    },
  };
}

/** Every live process whose environment carries this fake hub's address: the program's whole tree. */
function processesOf(hub: FakeHub): number[] {
  const needle = `FORKSCOPE_TEST_ANNOUNCE=${hub.address}\0`;
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(needle)) pids.push(Number(name));
    } catch {}
  }
  return pids;
}

describe('ForkscopeSession (DAP)', { timeout: 90_000 }, () => {
  let harness: Harness | undefined;
  after(async () => {
    for (const hub of allHubs) {
      for (const pid of processesOf(hub)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      if (!hub.closed) await hub.close();
    }
    await harness?.close();
  });

  it('launch: every process is announced and gets a pwa-node attach; terminate ends the whole tree', async () => {
    harness = await startAdapter();
    const { dc, outputs, configurations } = harness;
    const launched = dc.waitForEvent('forkscope/launched', 30_000);
    await dc.launch({ program: fixture, args: ['3'], cwd: repo, runtimeArgs: ['--import', 'tsx'] });
    const { body } = await launched;
    assert.equal(typeof body.pid, 'number');

    await until('4 attached processes', () => harness!.processEvents.filter((e) => e.debugger === 'attached').length === 4);
    await until('user code in 3 children', () => outputs.join('').match(/user code ran in child/g)?.length === 3);
    assert.match(outputs.join(''), /user code ran in main/);
    assert.doesNotMatch(outputs.join(''), /Debugger listening|Debugger attached/, "Node's inspector banner stays out of the Debug Console");
    // Each line once: the adapter forwards the program's output, and js-debug is told not to print console calls too.
    assert.equal(outputs.join('').match(/user code ran in main/g)?.length, 1);
    assert.equal(outputs.join('').match(/user code ran in child 1\n/g)?.length, 1);

    const main = configurations.find((c) => c.name.startsWith('MainProcess'));
    assert.ok(main, 'the main process got a session');
    assert.equal(main.name, `MainProcess · main · pid ${body.pid}`);
    const children = configurations.filter((c) => c !== main);
    assert.equal(children.length, 3);
    for (const c of children) {
      assert.equal(c.type, 'pwa-node');
      assert.equal(c.request, 'attach');
      assert.match(c.name, /^Process-[123] · worker · pid \d+$/);
      const url = new URL(c.websocketAddress);
      assert.equal(url.hostname, '127.0.0.1');
      assert.equal(c.port, Number(url.port));
      assert.equal(c.continueOnAttach, true);
      assert.equal(c.autoAttachChildProcesses, false);
      assert.equal(c.outputCapture, 'std', 'js-debug leaves console output to the adapter');
      assert.deepEqual(c.skipFiles, ['<node_internals>/**']);
      assert.equal(c.__forkscope.parent, String(body.pid), 'nested under the main process');
      assert.equal(c.__forkscope.key, String(c.__forkscope.pid));
    }

    // The escapee (double-forked, reparented away) is alive too before Stop. Counting processes is not enough: the
    // middle one counts too, and an escapee it spawns while Stop is under way has no lifeline (no preload) to end it.
    const isEscapee = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[2] === 'setInterval(() => {}, 1000)';
      } catch {
        return false;
      }
    };
    await until('the escapee', () => processesOf(harness!.hub).some(isEscapee));
    const terminated = dc.waitForEvent('terminated', 15_000);
    await dc.terminateRequest();
    await terminated;
    // A process the program started while Stop was under way (a pool's replacement worker, a helper) is not in the
    // tree Stop saw; its lifeline ends it within about a second of its parent (RELIABILITY.md, "No orphans").
    const hub = harness.hub;
    const left = await until('no process of the program to survive Stop', () => (processesOf(hub).length === 0 ? [] : undefined), 5_000).catch(() =>
      processesOf(hub).map((pid) => `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').slice(0, 160)}`),
    );
    assert.deepEqual(left, [], 'no process of the program survives Stop');
    assert.equal(harness.hub.closed, true, 'the hub closed with the session');
    await harness.close();
    harness = undefined;
  });

  it('attach filter: unselected children are released (never parked) and reported', async () => {
    harness = await startAdapter();
    const { dc, outputs, configurations } = harness;
    await dc.launch({ program: fixture, args: ['2'], cwd: repo, runtimeArgs: ['--import', 'tsx'], attach: { names: ['Process-2'] } });
    await until('both children running', () => outputs.join('').match(/user code ran in child/g)?.length === 2);
    await until('a released child', () => harness!.processEvents.find((e) => e.debugger === 'released'));
    assert.deepEqual(configurations.map((c) => c.name.split(' · ')[0]).sort(), ['MainProcess', 'Process-2']);
    const released = harness.processEvents.find((e) => e.debugger === 'released')!;
    assert.equal(released.name, 'Process-1');
    assert.match(released.reason!, /attach filter/);
    await dc.terminateRequest();
    assert.deepEqual(processesOf(harness.hub), []);
    await harness.close();
    harness = undefined;
  });

  it('a child whose session fails to start is released and the reason shown', async () => {
    harness = await startAdapter((name) => name.startsWith('Process-1'));
    const { dc, outputs } = harness;
    await dc.launch({ program: fixture, args: ['1'], cwd: repo, runtimeArgs: ['--import', 'tsx'] });
    await until('the child running anyway', () => /user code ran in child 1/.test(outputs.join('')));
    assert.match(outputs.join(''), /could not attach to Process-1 · worker · pid \d+: VS Code did not start the session/);
    const failed = await until('a failed report', () => harness!.processEvents.find((e) => e.debugger === 'failed'));
    assert.equal(failed.name, 'Process-1');
    await dc.terminateRequest();
    assert.deepEqual(processesOf(harness.hub), []);
    await harness.close();
    harness = undefined;
  });

  it('forkscope/thread: a worker thread of the program answers with its session name, any other thread with none', async () => {
    harness = await startAdapter();
    const { dc, outputs } = harness;
    const launched = dc.waitForEvent('forkscope/launched', 30_000);
    await dc.launch({ program: fixture, args: ['0'], cwd: repo, runtimeArgs: ['--import', 'tsx'] });
    const pid = (await launched).body.pid as number;
    await until('the main process running', () => /user code ran in main/.test(outputs.join('')));
    harness.hub.announce({ key: `${pid}/4`, pid, threadId: 4, parent: String(pid), name: 'Process-1', role: 'process', startMethod: 'thread' });
    await until('the thread reported', () => harness!.processEvents.find((e) => e.key === `${pid}/4`));
    assert.deepEqual((await dc.customRequest('forkscope/thread', { pid, threadId: 4 })).body, { name: `Process-1 · pid ${pid}` });
    assert.deepEqual((await dc.customRequest('forkscope/thread', { pid, threadId: 5 })).body ?? {}, {}, "a thread the program never announced (a loader's)");
    await dc.terminateRequest();
    await harness.close();
    harness = undefined;
  });

  it('refuses to launch in an untrusted workspace', async () => {
    let launched = false;
    const { dc, close } = await startDebugClient({
      launcher: { launch: async () => ((launched = true), Promise.reject(new Error('unreachable'))) },
      isTrusted: () => false,
    });
    try {
      await assert.rejects(dc.launch({ program: fixture }), /untrusted workspace/);
      assert.equal(launched, false);
    } finally {
      await close();
    }
  });
});
