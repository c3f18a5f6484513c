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

describe('ForkscopeSession stopOnEntry', { timeout: 120_000 }, () => {
  let adapter: DebugHarness | undefined;
  let mainDebugger: Cdp | undefined;
  let rootPid: number | undefined;
  const end = async () => {
    await mainDebugger?.close().catch(() => {});
    mainDebugger = undefined;
    await killProgram(rootPid);
    rootPid = undefined;
    await adapter?.close();
    adapter = undefined;
  };
  after(end);

  /**
   * Launches the fixture with stopOnEntry under a stand-in for js-debug on the main process: a second CDP session that
   * runs it as js-debug does. With `entryBreakpoint`, the stand-in also sets js-debug's module-entry breakpoint (the
   * program's first line, as js-debug does for a file with breakpoints) and resumes any pause that hit it, as js-debug's
   * `shouldPauseAt` does when no breakpoint of the user's was hit too. Resolves with the first pause it keeps.
   */
  async function launchUnderStandIn(options: { entryBreakpoint: boolean }) {
    const scripts = new Map<string, string>();
    let keep!: (event: any) => void;
    const kept = new Promise<any>((resolve) => (keep = resolve));
    let autoResumed = 0;
    adapter = await startDebugClient({
      launcher: realLauncher(),
      startChildSession: async (configuration) => {
        if (!String(configuration.name).startsWith('MainProcess')) {
          await releaseInspector(configuration.websocketAddress as string);
          return true;
        }
        const cdp = (mainDebugger = await CDP({ target: configuration.websocketAddress as string, local: true }));
        cdp.on('Debugger.scriptParsed', (e) => scripts.set(e.scriptId, e.url));
        await cdp.send('Debugger.enable');
        let entryId: string | undefined;
        if (options.entryBreakpoint) {
          const urlRegex = `^${pathToFileURL(fixture).href.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\?.*)?$`;
          entryId = (await cdp.send('Debugger.setBreakpointByUrl', { urlRegex, lineNumber: 0, columnNumber: 0 })).breakpointId;
        }
        cdp.on('Debugger.paused', (event) => {
          if (entryId && (event.hitBreakpoints ?? []).includes(entryId)) {
            entryId = undefined;
            autoResumed++;
            void cdp.send('Debugger.resume');
          } else keep(event);
        });
        await cdp.send('Runtime.runIfWaitingForDebugger');
        return true;
      },
    });
    const { dc, outputs } = adapter;
    const launched = dc.waitForEvent('forkscope/launched', 30_000);
    await dc.launch({ program: fixture, args: ['0'], cwd: repo, stopOnEntry: true });
    rootPid = (await launched).body.pid as number;
    await until('a debugger on the main process', () => mainDebugger);
    const event = await Promise.race([
      kept,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no pause kept within 30 s (entry pauses resumed: ${autoResumed}); output:\n${outputs.join('')}`)), 30_000).unref(),
      ),
    ]);
    const where = scripts.get(event.callFrames[0].location.scriptId) ?? '';
    return { dc, outputs, event, where, autoResumed: () => autoResumed };
  }

  async function resumeToTheEnd(dc: DebugHarness['dc'], outputs: string[]): Promise<void> {
    const terminated = dc.waitForEvent('terminated', 30_000);
    await mainDebugger!.send('Debugger.resume');
    await until('the program ran to its end', () => /attach fixture done/.test(outputs.join('')));
    // Node keeps a finished program alive while a debugger is connected; js-debug leaves then, and so does its stand-in.
    await mainDebugger!.close();
    mainDebugger = undefined;
    await terminated;
  }

  it('the main process stops in the program before its first line runs; resume runs it', async () => {
    const { dc, outputs, where } = await launchUnderStandIn({ entryBreakpoint: false });
    assert.equal(where.split('?')[0], pathToFileURL(fixture).href, 'paused in the program itself');
    // A person looks first: a Continue within a second is taken for a debugger's own resume (and stops once more).
    await new Promise((r) => setTimeout(r, 1_500));
    assert.doesNotMatch(outputs.join(''), /child ran/, 'nothing of the program runs while stopped on entry');
    await resumeToTheEnd(dc, outputs);
    await end();
  });

  it('a debugger that resumes its own entry breakpoint at the same spot still leaves the program stopped at its top', { todo: 'fails ~1 run in 5 at load 30: after the kept pause is resumed the program does not run to its end within 30 s (the plain case above fails so too, as often); cause not found yet' }, async () => {
    const { dc, outputs, event, where, autoResumed } = await launchUnderStandIn({ entryBreakpoint: true });
    assert.equal(autoResumed(), 1, "the stand-in's entry breakpoint was hit together with ours, and resumed");
    assert.equal(where.split('?')[0], pathToFileURL(fixture).href, 'paused again in the program itself, not in a loader');
    assert.equal(event.callFrames[0].functionName, '', `paused on the top level of the program: ${event.callFrames.map((f: any) => f.functionName).join(' < ')}`);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.doesNotMatch(outputs.join(''), /child ran/, 'nothing of the program runs while stopped on entry');
    await resumeToTheEnd(dc, outputs);
    assert.equal(autoResumed(), 1);
    await end();
  });
});
