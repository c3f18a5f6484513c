// The `forkscope` adapter's `attach` request over DAP: a program started from a terminal with the real CLI
// (`forkscope run --inspect`, runtime/dist/cli.cjs) is joined through the address and token it printed; each
// process gets a pwa-node attach; disconnect leaves the program running, terminate ends its tree. The child-session
// sink is injected (DebugClient drops reverse requests) and acts as the debugger over CDP. Needs `npm run build`.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { releaseInspector } from '../../src/debug/inspectorRelease';
import { repo, startDebugClient } from './debugClient';
import { until, isAlive as alive } from './polling';

const cli = fileURLToPath(new URL('../../runtime/dist/cli.cjs', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/debug-attach.ts', import.meta.url));

interface Terminal {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
  configuration: { type: string; request: string; address: string; token: string };
}

const started: ChildProcess[] = [];

/** `forkscope run --inspect` as a user would start it in a terminal; resolves with the configuration it printed. */
async function runInTerminal(lingerMs: number, env: NodeJS.ProcessEnv = {}): Promise<Terminal> {
  const child = spawn(process.execPath, [cli, 'run', '--inspect', fixture, String(lingerMs)], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own group, so cleanup can end everything it started even after a failed test.
    detached: true,
  });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = await until('the printed attach configuration', () => err.split('\n').find((l) => l.startsWith('{"type":"forkscope"')), 20_000);
  return { child, out: () => out, exited, configuration: JSON.parse(line) };
}

/** Every adapter started, for the suite's cleanup. */
const adapters: Array<Awaited<ReturnType<typeof startAdapter>>> = [];

/** An adapter (closed by the suite's cleanup), initialized and attached with `configuration`. */
async function attachTo(configuration: Terminal['configuration']) {
  const adapter = await startAdapter();
  adapters.push(adapter);
  await adapter.dc.initializeRequest();
  await adapter.dc.attachRequest(configuration as unknown as DebugProtocol.AttachRequestArguments);
  return adapter;
}

async function startAdapter() {
  const configurations: Array<Record<string, any>> = [];
  const harness = await startDebugClient({
    launcher: { launch: () => Promise.reject(new Error('an attach session never launches')) },
    startChildSession: async (configuration) => {
      configurations.push(configuration);
      // Stand in for js-debug: attach over CDP and let the process run (one that already runs needs nothing).
      await releaseInspector(configuration.websocketAddress as string).catch((error: Error) => {
        if (!/did not start waiting/.test(error.message)) throw error;
      });
      return true;
    },
    attachTimeoutMs: 15_000,
  });
  return { ...harness, configurations };
}

describe('ForkscopeSession attach (DAP, real CLI)', { timeout: 120_000 }, () => {
  after(async () => {
    for (const child of started) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }
    for (const a of adapters) await a.close();
  });

  it('joins the printed hub, attaches every process; disconnect leaves the program running to its end', async () => {
    const terminal = await runInTerminal(3_000);
    const adapter = await attachTo(terminal.configuration);
    const { dc } = adapter;

    await until('3 attached processes', () => adapter.processEvents.filter((e) => e.debugger === 'attached').length === 3);
    await until('both children ran', () => terminal.out().match(/child ran in Process-[12]/g)?.length === 2);
    const main = adapter.configurations.find((c) => c.name.startsWith('MainProcess'));
    assert.ok(main, 'the main process got a session');
    assert.match(main.name, /^MainProcess · main · pid \d+$/);
    const children = adapter.configurations.filter((c) => c !== main);
    assert.deepEqual(children.map((c) => c.name.split(' · ')[0]).sort(), ['Process-1', 'Process-2']);
    for (const c of children) {
      assert.equal(c.type, 'pwa-node');
      assert.equal(new URL(c.websocketAddress).hostname, '127.0.0.1');
      // The program's output is in its terminal, not piped to the adapter: js-debug shows console calls itself.
      assert.equal(c.outputCapture, undefined);
      assert.equal(c.__forkscope.parent, main.__forkscope.key, 'nested under the main process');
    }

    // Disconnect detaches: the program lingers 3 s, then finishes on its own with its last line and code 0.
    await dc.disconnectRequest({});
    assert.equal(alive(main.__forkscope.pid), true, 'the program goes on after disconnect');
    assert.equal(await terminal.exited, 0);
    assert.match(terminal.out(), /attach fixture done/);
  });

  it('terminate ends the whole tree the adapter attached to', async () => {
    const terminal = await runInTerminal(60_000);
    const adapter = await attachTo(terminal.configuration);
    const { dc } = adapter;
    await until('3 attached processes', () => adapter.processEvents.filter((e) => e.debugger === 'attached').length === 3);
    const pids = adapter.configurations.map((c) => c.__forkscope.pid as number);
    const terminated = dc.waitForEvent('terminated', 20_000);
    await dc.terminateRequest();
    await terminated;
    assert.deepEqual(pids.filter(alive), [], 'no process of the program survives terminate');
    assert.notEqual(await terminal.exited, 0, 'the CLI reports its program killed');
    assert.doesNotMatch(terminal.out(), /attach fixture done/);
  });

  it('joining late: a process that ended is noted, one that stopped waiting is attached as it runs', async () => {
    // Processes wait 1 ms for a debugger: the children run and end before the adapter joins; the main one lingers.
    const terminal = await runInTerminal(60_000, { FORKSCOPE_DEBUG_WAIT_MS: '1' });
    await until('both children ended', () => terminal.out().includes('children joined'));
    const adapter = await attachTo(terminal.configuration);
    const { dc, outputs } = adapter;
    await until('the main process attached', () => adapter.processEvents.find((e) => e.name === 'MainProcess' && e.debugger === 'attached'));
    const ended = await until('both children noted as ended', () => {
      const none = adapter.processEvents.filter((e) => e.debugger === 'none');
      return none.length === 2 && none;
    });
    for (const e of ended) assert.match(e.reason!, /ended before the debugger joined/);
    assert.doesNotMatch(outputs.join(''), /could not attach/);
    await dc.terminateRequest();
    assert.notEqual(await terminal.exited, 0);
  });

  it('a wrong token is refused', async () => {
    const terminal = await runInTerminal(0);
    await assert.rejects(attachTo({ ...terminal.configuration, token: 'f'.repeat(64) }), /Could not join the forkscope hub.*wrong token/);
    assert.deepEqual(adapters.at(-1)!.configurations, []);
    // Ctrl-C's cousin: the CLI forwards SIGTERM to its program and cleans up its sockets.
    terminal.child.kill('SIGTERM');
    await terminal.exited;
  });
});
