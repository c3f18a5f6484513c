// `stopOnEntry` over DAP: under the real hub and launcher, the main process (parked by the runtime's preload before
// the program loads) pauses in the program's own script before any of it runs, and a second debugger session (the
// stand-in for js-debug, over CDP) sees that pause and resumes it. Needs `npm run build`.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';
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

const fixture = fileURLToPath(new URL('../fixtures/debug-attach.ts', import.meta.url));

describe('ForkscopeSession stopOnEntry', { timeout: 90_000 }, () => {
  let adapter: DebugHarness | undefined;
  let mainDebugger: Cdp | undefined;
  let rootPid: number | undefined;
  after(async () => {
    await mainDebugger?.close().catch(() => {});
    await killProgram(rootPid);
    await adapter?.close();
  });

  it('the main process stops in the program before its first line runs; resume runs it', async () => {
    const scripts = new Map<string, string>();
    let paused!: Promise<any>;
    adapter = await startDebugClient({
      launcher: realLauncher(),
      startChildSession: async (configuration) => {
        if (!String(configuration.name).startsWith('MainProcess')) {
          await releaseInspector(configuration.websocketAddress as string);
          return true;
        }
        // Stand in for js-debug: a second session on the main process, which runs it as js-debug does.
        mainDebugger = await CDP({ target: configuration.websocketAddress as string, local: true });
        mainDebugger.on('Debugger.scriptParsed', (e) => scripts.set(e.scriptId, e.url));
        paused = new Promise((resolve) => mainDebugger!.on('Debugger.paused', resolve));
        await mainDebugger.send('Debugger.enable');
        await mainDebugger.send('Runtime.runIfWaitingForDebugger');
        return true;
      },
    });
    const { dc, outputs } = adapter;
    const launched = dc.waitForEvent('forkscope/launched', 30_000);
    await dc.launch({ program: fixture, args: ['0'], cwd: repo, stopOnEntry: true });
    rootPid = (await launched).body.pid as number;

    await until('a debugger on the main process', () => mainDebugger);
    const event = await paused;
    const where = scripts.get(event.callFrames[0].location.scriptId) ?? '';
    assert.equal(where.split('?')[0], pathToFileURL(fixture).href, 'paused in the program itself');
    await new Promise((r) => setTimeout(r, 500));
    assert.doesNotMatch(outputs.join(''), /child ran/, 'nothing of the program runs while stopped on entry');

    const terminated = dc.waitForEvent('terminated', 30_000);
    await mainDebugger!.send('Debugger.resume');
    await until('the program ran to its end', () => /attach fixture done/.test(outputs.join('')));
    // Node keeps a finished program alive while a debugger is connected; js-debug leaves then, and so does its stand-in.
    await mainDebugger!.close();
    mainDebugger = undefined;
    await terminated;
  });
});
