// `attach: "onDemand"` over DAP: a released pool worker that runs a `debugger` statement, or throws an exception
// nothing catches, gets a debugger then: the adapter asks for its child session (startDebugging), and a CDP client
// standing in for js-debug finds it stopped on that line; resuming lets the program finish. The real hub, launcher and runtime. Needs `npm run build`.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { releaseInspector } from '../../src/debug/inspectorRelease';
import { killProgram, realLauncher, repo, startDebugClient, type DebugHarness } from './debugClient';
import { until } from './polling';

// chrome-remote-interface ships no types; the few calls used here are typed at this seam.
interface Cdp {
  send(method: string, params?: object): Promise<any>;
  on(event: string, listener: (params: any) => void): void;
  close(): Promise<void>;
}
const CDP = createRequire(import.meta.url)('chrome-remote-interface') as (options: { target: string; local?: boolean }) => Promise<Cdp>;

const fixture = fileURLToPath(new URL('../fixtures/debug-pause.cjs', import.meta.url));
const source = readFileSync(fixture, 'utf8').split('\n');
const debuggerLine = source.findIndex((l) => l.trimStart().startsWith('debugger;'));
const throwLine = source.findIndex((l) => l.includes('// THROW_LINE'));

describe('ForkscopeSession attach "onDemand"', { timeout: 90_000 }, () => {
  let adapter: DebugHarness | undefined;
  const debuggers: Cdp[] = [];
  let rootPid: number | undefined;
  after(async () => {
    await Promise.all(debuggers.map((d) => d.close().catch(() => {})));
    await killProgram(rootPid);
    await adapter?.close();
  });

  /** Launches the fixture in `mode` with attach "onDemand"; the stand-in for js-debug records the worker's stop. */
  async function stopOnDemand(mode: 'stops' | 'throws') {
    const asked: string[] = [];
    let stop: { line: number } | undefined;
    adapter = await startDebugClient({
      launcher: realLauncher(),
      startChildSession: async (configuration) => {
        const name = String(configuration.name);
        asked.push(name);
        if (name.startsWith('MainProcess')) {
          await releaseInspector(configuration.websocketAddress as string);
          return true;
        }
        // Stand in for js-debug attaching to a process that is already stopped: enabling the Debugger domain
        // reports the pause it is in; Continue lets it go on.
        const cdp = await CDP({ target: configuration.websocketAddress as string, local: true });
        debuggers.push(cdp);
        cdp.on('Debugger.paused', (event) => (stop ??= { line: event.callFrames[0]?.location.lineNumber }));
        await cdp.send('Debugger.enable');
        await cdp.send('Runtime.runIfWaitingForDebugger');
        // The user looks, then presses Continue; Node keeps an exiting process alive while a debugger is connected,
        // so the stand-in leaves after it.
        setTimeout(
          () =>
            void cdp
              .send('Debugger.resume')
              .then(() => cdp.close())
              .catch(() => {}),
          500,
        );
        return true;
      },
    });
    const { dc, outputs, processEvents } = adapter;
    const launched = dc.waitForEvent('forkscope/launched', 30_000);
    const ended = dc.waitForEvent('terminated', 60_000);
    await dc.launch({ program: fixture, args: [mode, '20000'], cwd: repo, attach: 'onDemand' });
    rootPid = (await launched).body.pid as number;

    await until('the worker released on demand', () => processEvents.some((e) => e.role === 'worker' && e.debugger === 'released'));
    assert.deepEqual(
      asked.filter((n) => !n.startsWith('MainProcess')),
      [],
      'no worker session before it stops',
    );
    await until('a session asked for the stopped worker', () => asked.some((n) => / · worker · pid \d+$/.test(n)));
    await until('the stand-in debugger saw the stop', () => stop);
    await until('the worker reported attached', () => processEvents.some((e) => e.role === 'worker' && e.debugger === 'attached'));
    await until('the program to finish', () => /"ok":true,"value":42/.test(outputs.join('')));
    await ended;
    return { stop: stop!, outputs: outputs.join('') };
  }

  it('a released worker stopping at a debugger statement gets its session there, stopped on that line', async () => {
    const { stop } = await stopOnDemand('stops');
    assert.equal(stop.line, debuggerLine, 'stopped on the debugger statement');
  });

  // Not yet understood, and flaky: on a quiet machine the released worker's uncaught exception often passes unpaused
  // (on Node 20 and 24 alike: the program finishes, "after": null, and no pause reaches the adapter's watch); under
  // load it is mostly caught. It failed a CI rehearsal on Node 24 and 7 of 10 runs here at load 1-2. Moving the
  // TypeScript compile cache away seemed to fix it once; with the same cache it then passed and failed by turns, so
  // the cache is not the cause. V8 itself pauses on such a throw (a timer's callback) in a plain program.
  it('a released worker throwing an uncaught exception gets its session there, stopped on the throw', {
    todo: "flaky on a quiet machine: the on-demand watch misses the worker's uncaught exception (see above)",
  }, async () => {
    await adapter?.close();
    const { stop, outputs } = await stopOnDemand('throws');
    assert.equal(stop.line, throwLine, 'stopped on the throw');
    // A debugger that joins a pause sees it as reason "other": the adapter's watch saw the exception.
    assert.match(outputs, /stopped at an uncaught exception; attaching its debugger/);
  });
});
