// `stopOnEntry` over DAP: under the real hub and launcher, the main process (parked by the runtime's preload before
// the program loads) pauses in the program's own script before any of it runs, and a second debugger session (the
// stand-in for js-debug, over CDP) sees that pause and resumes it. Needs `npm run build`.
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { releaseInspector } from '../../src/debug/inspectorRelease';
import { programPids } from '../../src/debug/processTree';
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

/**
 * One launch with stopOnEntry under a stand-in for js-debug on the main process: a second CDP session that runs it as
 * js-debug does. With `entryBreakpoint`, the stand-in also sets js-debug's module-entry breakpoint (the program's first
 * line, as js-debug does for a file with breakpoints) and resumes any pause that hit it, as js-debug's `shouldPauseAt`
 * does when no breakpoint of the user's was hit too.
 */
class StandIn {
  adapter: DebugHarness | undefined;
  mainDebugger: Cdp | undefined;
  rootPid: number | undefined;
  autoResumed = 0;
  /** Every pause and resume the stand-in saw, for a failure's message. */
  readonly seen: string[] = [];

  /** Resolves with the first pause the stand-in keeps. */
  async launch(program: string, options: { entryBreakpoint: boolean }) {
    const scripts = new Map<string, string>();
    let keep!: (event: any) => void;
    const kept = new Promise<any>((resolve) => (keep = resolve));
    this.adapter = await startDebugClient({
      launcher: realLauncher(),
      startChildSession: async (configuration) => {
        if (!String(configuration.name).startsWith('MainProcess')) {
          await releaseInspector(configuration.websocketAddress as string);
          return true;
        }
        const cdp = (this.mainDebugger = await CDP({ target: configuration.websocketAddress as string, local: true }));
        cdp.on('Debugger.scriptParsed', (e) => scripts.set(e.scriptId, e.url));
        await cdp.send('Debugger.enable');
        let entryId: string | undefined;
        if (options.entryBreakpoint) {
          const urlRegex = `^${pathToFileURL(program).href.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\?.*)?$`;
          entryId = (await cdp.send('Debugger.setBreakpointByUrl', { urlRegex, lineNumber: 0, columnNumber: 0 })).breakpointId;
        }
        cdp.on('Debugger.resumed', () => this.seen.push('resumed'));
        cdp.on('Debugger.paused', (event) => {
          const top = event.callFrames[0];
          this.seen.push(
            `paused (${event.reason}) at ${scripts.get(top.location.scriptId)}:${top.location.lineNumber + 1}:${top.location.columnNumber + 1} in '${top.functionName}'`,
          );
          if (entryId && (event.hitBreakpoints ?? []).includes(entryId)) {
            entryId = undefined;
            this.autoResumed++;
            void cdp.send('Debugger.resume');
          } else keep(event);
        });
        await cdp.send('Runtime.runIfWaitingForDebugger');
        return true;
      },
    });
    const { dc, outputs } = this.adapter;
    dc.on('exited', (e: any) => this.seen.push(`exited ${e.body.exitCode}`));
    dc.on('terminated', () => this.seen.push('terminated'));
    const launched = dc.waitForEvent('forkscope/launched', 30_000);
    await dc.launch({ program, args: ['0'], cwd: repo, stopOnEntry: true });
    this.rootPid = (await launched).body.pid as number;
    await until('a debugger on the main process', () => this.mainDebugger);
    const event = await Promise.race([
      kept,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`no pause kept within 30 s (entry pauses resumed: ${this.autoResumed}); output:\n${outputs.join('')}`)),
          30_000,
        ).unref(),
      ),
    ]);
    const where = scripts.get(event.callFrames[0].location.scriptId) ?? '';
    return { dc, outputs, event, where };
  }

  async resumeToTheEnd(done: RegExp): Promise<void> {
    const { dc, outputs } = this.adapter!;
    const terminated = dc.waitForEvent('terminated', 30_000);
    await this.mainDebugger!.send('Debugger.resume');
    await until('the program ran to its end', () => done.test(outputs.join(''))).catch(async (error: Error) => {
      const processes = this.adapter!.processEvents.map((e) => `${e.name} ${e.pid} ${e.debugger}${e.reason ? ` (${e.reason})` : ''}`);
      const alive = [...(await programPids({ rootPid: this.rootPid! }))].map((pid) => {
        try {
          return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(-3).join(' ')}`;
        } catch {
          return `${pid} gone`;
        }
      });
      throw new Error(
        `${error.message}; the stand-in saw: ${this.seen.join(', ')}; processes: ${processes.join('; ')}; alive: ${alive.join('; ')}; output:\n${outputs.join('')}`,
      );
    });
    // Node keeps a finished program alive while a debugger is connected; js-debug leaves then, and so does its stand-in.
    await this.mainDebugger!.close();
    this.mainDebugger = undefined;
    await terminated;
  }

  async end(): Promise<void> {
    await this.mainDebugger?.close().catch(() => {});
    this.mainDebugger = undefined;
    await killProgram(this.rootPid);
    this.rootPid = undefined;
    await this.adapter?.close();
    this.adapter = undefined;
  }
}

describe('ForkscopeSession stopOnEntry', { timeout: 120_000 }, () => {
  let standIn: StandIn | undefined;
  after(() => standIn?.end());

  it('the main process stops in the program before its first line runs; resume runs it', async () => {
    standIn = new StandIn();
    const { outputs, where } = await standIn.launch(fixture, { entryBreakpoint: false });
    assert.equal(where.split('?')[0], pathToFileURL(fixture).href, 'paused in the program itself');
    // A person looks first: a Continue within a second is taken for a debugger's own resume (and stops once more).
    await new Promise((r) => setTimeout(r, 1_500));
    assert.doesNotMatch(outputs.join(''), /child ran/, 'nothing of the program runs while stopped on entry');
    await standIn.resumeToTheEnd(/attach fixture done/);
    await standIn.end();
  });
});

// The shape where V8 puts a breakpoint asked for on line 1 inside a function: a declaration (hoisted, so not a place to
// stop) before the first statement, whose body is the first place to stop in source order. One program per module
// kind and language; the ES modules import nothing, so nothing delays their run once they are compiled.
describe('ForkscopeSession stopOnEntry in every module kind', { timeout: 240_000 }, () => {
  let dir: string;
  let standIn: StandIn | undefined;
  const body = (types: boolean) =>
    `function twice(n${types ? ': number): number' : ')'} {\n  return n * 2;\n}\nconsole.log(\`entry fixture done \${twice(21)}\`);\n`;
  const programs: Array<[name: string, text: string]> = [
    ['entry.cts', body(true)],
    ['entry.mts', `export ${body(true)}`],
    ['entry.cjs', body(false)],
    ['entry.mjs', `export ${body(false)}`],
  ];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'forkscope-entry-'));
    for (const [name, text] of programs) writeFileSync(join(dir, name), text);
  });
  after(async () => {
    await standIn?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  // js-debug's module-entry breakpoint lands on the program's first statement only where line 1 holds one (here it
  // does in every Node); it resumes that pause, and the program must stop again before anything else of it runs.
  it('a debugger that resumes its own entry breakpoint at the same spot still leaves the program stopped at its top', async () => {
    standIn = new StandIn();
    const program = join(dir, 'resumed.cjs');
    writeFileSync(program, `const label = 'entry fixture';\n${body(false).replace('`entry fixture', '`${label}')}`);
    const { outputs, event, where } = await standIn.launch(program, { entryBreakpoint: true });
    assert.equal(standIn.autoResumed, 1, "the stand-in's entry breakpoint was hit together with ours, and resumed");
    assert.equal(where.split('?')[0], pathToFileURL(program).href, 'paused again in the program itself, not in a loader');
    assert.equal(
      event.callFrames[0].functionName,
      '',
      `paused on the top level of the program: ${event.callFrames.map((f: any) => f.functionName).join(' < ')}`,
    );
    await new Promise((r) => setTimeout(r, 1_200));
    assert.doesNotMatch(outputs.join(''), /entry fixture done/, 'nothing of the program runs while stopped on entry');
    await standIn.resumeToTheEnd(/entry fixture done 42/);
    assert.equal(standIn.autoResumed, 1);
    await standIn.end();
  });

  for (const [name] of programs) {
    it(`${name}: stops on the program's first statement, not in the function declared above it`, async () => {
      standIn = new StandIn();
      const program = join(dir, name);
      const { outputs, event, where } = await standIn.launch(program, { entryBreakpoint: false });
      assert.equal(where.split('?')[0], pathToFileURL(program).href, 'paused in the program itself');
      assert.equal(event.callFrames[0].functionName, '', `paused on the top level: ${event.callFrames.map((f: any) => f.functionName).join(' < ')}`);
      assert.doesNotMatch(outputs.join(''), /entry fixture done/, 'nothing of the program ran before the pause');
      // Longer than a debugger's own resume of the entry pause takes (one that fast stops once more, on the next statement).
      await new Promise((r) => setTimeout(r, 1_200));
      await standIn.resumeToTheEnd(/entry fixture done 42/);
      await standIn.end();
    });
  }
});
