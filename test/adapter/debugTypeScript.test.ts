// The `forkscope` adapter's launch of a .ts program in a project with no tsx (only forkscope installed):
// the program and its child run on the runtime's loader, and a breakpoint in the child's .ts file binds
// through the compiled module's source map and is hit there. The child-session sink stands in for
// js-debug over CDP (DebugClient drops reverse requests). Needs `npm run build`.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync, existsSync, cpSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseInspector } from '../../src/debug/inspectorRelease';
import { realLauncher, repo, startDebugClient } from './debugClient';
import { until } from './polling';

// chrome-remote-interface ships no types; the few calls used here are typed at this seam.
interface Cdp {
  send(method: string, params?: object): Promise<any>;
  on(event: string, listener: (params: any) => void): void;
  close(): Promise<void>;
}
const CDP = require('chrome-remote-interface') as (options: { target: string; local?: boolean }) => Promise<Cdp>;

const scratch = mkdtempSync(join(tmpdir(), 'forkscope-dap-ts-'));
const app = join(scratch, 'app.ts');
const BREAK_LINE = 8;

/** The first generated line (0-based) whose code maps to `line` (1-based) of `source`. */
function generatedLine(map: SourceMap, lines: number, line: number): number | undefined {
  for (let g = 0; g < lines; g++) {
    const entry = map.findEntry(g, 200) as { originalLine?: number; originalSource?: string };
    if (entry.originalLine === line - 1) return g;
  }
  return undefined;
}

describe('ForkscopeSession launch of a TypeScript program without tsx (DAP)', { timeout: 120_000 }, () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  // Since targets load through the require hook (no Node 20 loader thread), this CDP stand-in's setBreakpoint on the
  // compiled script's mapped line answers "Could not resolve breakpoint"; js-debug binds by URL and source map in the
  // workbench (test/e2e/debug.test.ts). Left as todo until the stand-in binds the way js-debug does.
  it("binds and hits a breakpoint in the child's .ts file", { todo: "the CDP stand-in's Debugger.setBreakpoint by scriptId answers 'Could not resolve breakpoint' since targets load through the require hook" }, async () => {
    mkdirSync(join(scratch, 'node_modules'));
    symlinkSync(join(repo, 'runtime'), join(scratch, 'node_modules', 'forkscope'), 'dir');
    writeFileSync(join(scratch, 'package.json'), '{"name":"dap-ts","private":true}');
    cpSync(join(repo, 'test', 'fixtures', 'ts-project', 'colors.ts'), join(scratch, 'colors.ts'));
    writeFileSync(
      app,
      [
        "import { Process, isMainProcess } from 'forkscope';",
        "import { Color } from './colors.js';",
        '',
        'export function work(label: string): void {',
        '  const who: string = label;',
        '  const shade: Color = Color.Green;',
        '  // the breakpoint is on the next line',
        '  console.log(`child ${who} ${shade}`);',
        '}',
        '',
        'if (isMainProcess()) {',
        "  const p = new Process({ target: work, args: ['one'] });",
        '  p.start();',
        '  void p.join().then(() => console.log(`joined ${p.exitCode}`));',
        '}',
        '',
      ].join('\n'),
    );
    assert.equal(existsSync(join(scratch, 'node_modules', 'tsx')), false);

    let hit: { line: number; url: string } | undefined;
    const harness = await startDebugClient({
      launcher: realLauncher(),
      startChildSession: async (configuration) => {
        const url = configuration.websocketAddress as string;
        if (!String(configuration.name).startsWith('Process-1')) {
          await releaseInspector(url);
          return true;
        }
        // Stand in for js-debug: find app.ts's compiled script, map the .ts line through its source map, break there.
        const client = await CDP({ target: url, local: true });
        const scripts = new Map<string, { scriptId: string; sourceMapURL: string; endLine: number }>();
        client.on('Debugger.scriptParsed', (p) => scripts.set(p.url, { scriptId: p.scriptId, sourceMapURL: p.sourceMapURL ?? '', endLine: p.endLine }));
        client.on('Debugger.paused', async ({ callFrames }) => {
          const top = callFrames[0];
          const script = [...scripts.values()].find((s) => s.scriptId === top.location.scriptId);
          const map = new SourceMap(JSON.parse(Buffer.from(script!.sourceMapURL.split(',')[1]!, 'base64').toString('utf8')));
          const entry = map.findEntry(top.location.lineNumber, top.location.columnNumber ?? 0) as { originalLine: number; originalSource: string };
          hit = { line: entry.originalLine + 1, url: entry.originalSource };
          await client.send('Debugger.resume');
          // A process with a debugger still attached waits for it to leave before it exits.
          await client.close();
        });
        await client.send('Debugger.enable');
        await client.send('Debugger.setPauseOnExceptions', { state: 'none' });
        // The main module is loaded after the release; its script is parsed before `work` runs.
        client.on('Debugger.scriptParsed', (p) => {
          if (p.url !== app && p.url !== `file://${app}`) return;
          const map = new SourceMap(JSON.parse(Buffer.from((p.sourceMapURL ?? '').split(',')[1] ?? '', 'base64').toString('utf8') || '{}'));
          const line = generatedLine(map, p.endLine + 1, BREAK_LINE);
          assert.notEqual(line, undefined, `app.ts:${BREAK_LINE} maps to a generated line`);
          void client.send('Debugger.setBreakpoint', { location: { scriptId: p.scriptId, lineNumber: line! } });
        });
        await releaseInspector(url);
        return true;
      },
      attachTimeoutMs: 30_000,
    });
    try {
      const exited = harness.dc.waitForEvent('terminated', 90_000);
      await harness.dc.launch({ program: app, cwd: scratch } as never);
      await until('the child ran', () => harness.outputs.join('').includes('child one green'), 90_000);
      await exited;
      assert.ok(hit, 'the breakpoint was hit');
      assert.equal(hit.line, BREAK_LINE);
      assert.match(hit.url, /app\.ts$/);
      assert.match(harness.outputs.join(''), /joined 0/);
    } finally {
      await harness.close();
    }
  });
});
