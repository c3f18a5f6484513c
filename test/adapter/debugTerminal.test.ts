// `console: "integratedTerminal"` over DAP: the adapter hands the client a command line (runInTerminal) instead of
// spawning; the program still reports to the session's real hub, every process is announced and attached, its
// output stays in the terminal, its end is noticed, and terminate ends its tree. DebugClient drops reverse
// requests, so the injected runInTerminal stands in for the terminal and spawns the command. Needs `npm run build`.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { releaseInspector } from '../../src/debug/inspectorRelease';
import type { TerminalCommand } from '../../src/debug/programHost';
import { realLauncher, repo, startDebugClient } from './debugClient';
import { until, isAlive as alive } from './polling';

const fixture = fileURLToPath(new URL('../fixtures/debug-attach.ts', import.meta.url));

const terminals: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];

async function startAdapter() {
  const commands: TerminalCommand[] = [];
  let terminalOutput = '';
  const configurations: Array<Record<string, any>> = [];
  const harness = await startDebugClient({
    launcher: realLauncher(),
    startChildSession: async (configuration) => {
      configurations.push(configuration);
      await releaseInspector(configuration.websocketAddress as string);
      return true;
    },
    // The terminal: its own environment plus what the adapter adds; its own process group, as a shell's job.
    runInTerminal: async (command) => {
      commands.push(command);
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const [k, v] of Object.entries(command.env)) {
        if (v === null) delete env[k];
        else env[k] = v;
      }
      const [file, ...args] = command.args;
      const child = spawn(file!, args, { cwd: command.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      terminals.push(child);
      child.stdout!.on('data', (d: Buffer) => (terminalOutput += d));
      child.stderr!.on('data', (d: Buffer) => (terminalOutput += d));
    },
  });
  cleanups.push(() => harness.close());
  return { ...harness, commands, configurations, terminal: () => terminalOutput };
}

describe('ForkscopeSession console: integratedTerminal', { timeout: 90_000 }, () => {
  after(async () => {
    for (const t of terminals) {
      try {
        process.kill(-t.pid!, 'SIGKILL');
      } catch {}
    }
    for (const c of cleanups) await c();
  });

  it('runs the program in the terminal, attaches every process, terminate ends the tree', async () => {
    const a = await startAdapter();
    await a.dc.launch({ program: fixture, args: ['60000'], cwd: repo, console: 'integratedTerminal' });
    assert.equal(a.commands.length, 1);
    const [command] = a.commands;
    assert.deepEqual(command!.args.slice(-2), [fixture, '60000']);
    assert.equal(command!.cwd, path.resolve(repo));
    assert.match(String(command!.env.FORKSCOPE_HUB), /\S/, 'the program reports to the session hub');
    assert.equal(command!.env.FORKSCOPE_DEBUG, '1');

    await until('3 attached processes', () => a.processEvents.filter((e) => e.debugger === 'attached').length === 3);
    await until('both children ran, in the terminal', () => a.terminal().match(/child ran in Process-[12]/g)?.length === 2);
    assert.doesNotMatch(a.outputs.join(''), /child ran/, 'the Debug Console does not copy the terminal');
    for (const c of a.configurations) assert.equal(c.outputCapture, undefined, "js-debug's console capture is the Debug Console's copy");

    const pids = a.configurations.map((c) => c.__forkscope.pid as number);
    const terminated = a.dc.waitForEvent('terminated', 20_000);
    await a.dc.terminateRequest();
    await terminated;
    await until('no process left', () => pids.filter(alive).length === 0, 5_000);
  });

  it('notices the program ending by itself in the terminal', async () => {
    const a = await startAdapter();
    const terminated = a.dc.waitForEvent('terminated', 60_000);
    await a.dc.launch({ program: fixture, args: ['0'], cwd: repo, console: 'integratedTerminal' });
    await terminated;
    assert.match(a.terminal(), /attach fixture done/);
  });
});
