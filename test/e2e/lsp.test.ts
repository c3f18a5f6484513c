// The language server in a real VS Code (code-server) in real Chromium: a Forkscope diagnostic appears in the
// Problems view, its quick fix applies from the Quick Fix menu, and the code lenses appear over the guard.
// Depends on test/e2e/harness.ts only; screenshots go to test-results/.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, waitFor, workbenchSuite } from './harness';

const PROGRAM = [
  "import { Pool, isMainProcess } from 'forkscope';",
  '',
  'export function square(x: number): number {',
  '  return x * x;',
  '}',
  '',
  'const pool = new Pool();',
  "console.log(await pool.map(square, [1, 2, 3]), process.env.FORKSCOPE_SINGLE_PROCESS ?? 'multi');",
  'await pool.close();',
  '',
].join('\n');

const FIXED = [
  "import { Pool, isMainProcess } from 'forkscope';",
  '',
  'export function square(x: number): number {',
  '  return x * x;',
  '}',
  '',
  'if (isMainProcess()) {',
  '  const pool = new Pool();',
  "  console.log(await pool.map(square, [1, 2, 3]), process.env.FORKSCOPE_SINGLE_PROCESS ?? 'multi');",
  '  await pool.close();',
  '}',
  '',
].join('\n');

const MESSAGE = 'A Pool is created when this module loads';

describe('language server in code-server', { timeout: 600_000 }, () => {
  const suite = workbenchSuite({
    name: 'lsp',
    leftovers: 'fail',
    workspace: {
      files: {
        'program.ts': PROGRAM,
        // An ES module project: the program awaits at top level.
        'package.json': JSON.stringify({ name: 'lsp-e2e', private: true, type: 'module' }),
      },
      // As in a project that installed the package: `forkscope` (and its `npx forkscope` bin) in node_modules.
      links: {
        'node_modules/forkscope': join(REPO_ROOT, 'runtime'),
        'node_modules/.bin/forkscope': join('..', 'forkscope', 'bin', 'forkscope.js'),
        ...Object.fromEntries(
          ['tsx', 'esbuild', 'get-tsconfig', 'resolve-pkg-maps', '@esbuild']
            .filter((dep) => existsSync(join(REPO_ROOT, 'node_modules', dep)))
            .map((dep) => [`node_modules/${dep}`, join(REPO_ROOT, 'node_modules', dep)]),
        ),
      },
    },
  });
  const wb = () => suite.wb;

  /** The Problems view's rows, as text. */
  const problems = () => wb().page.evaluate(() => Array.from(document.querySelectorAll('.markers-panel .monaco-list-row')).map((r) => r.textContent ?? ''));

  it('shows the unguarded Pool in the Problems view, from the forkscope source', async () => {
    await wb().openFile('program.ts');
    await wb().page.keyboard.press('Control+Shift+M');
    const row = await waitFor('the Forkscope diagnostic in the Problems view', async () => (await problems()).find((t) => t.includes(MESSAGE)), 180_000);
    assert.match(row, /forkscope/);
    assert.match(row, /unguarded-start/);
    await wb().screenshot('lsp-problems');
  });

  it('applies the quick fix "Wrap in if (isMainProcess())" from the Quick Fix menu', async () => {
    const page = wb().page;
    // Into the diagnostic's range (`new Pool()` on line 7), then Quick Fix for the code actions there.
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget input').fill(':7:16');
    await page.keyboard.press('Enter');
    await waitFor('the cursor on line 7, column 16', () =>
      page.evaluate(() => Array.from(document.querySelectorAll('.statusbar-item')).some((e) => /Ln 7, Col 16/.test(e.textContent ?? ''))),
    );
    // Ctrl+. does not reach the editor in code-server's browser page: run the command itself. On a loaded
    // machine the menu can open before the code actions arrive ("No code actions"): close it and ask again.
    const title = 'Wrap in `if (isMainProcess())`';
    const menuRow = () =>
      page.evaluate(() =>
        Array.from(document.querySelectorAll('.action-widget .monaco-list-row.action'))
          .map((r) => r.textContent ?? '')
          .find((t) => t.includes('Wrap in')),
      );
    let label: string | undefined;
    try {
      label = await waitFor(
        'the quick fix in the code action menu',
        async () => {
          await wb().runCommand('Quick Fix...');
          const found = await waitFor('the menu row', menuRow, 5_000).catch(() => undefined);
          if (!found) await page.keyboard.press('Escape');
          return found;
        },
        90_000,
      );
    } catch (error) {
      await wb().screenshot('lsp-quick-fix-failure');
      throw error;
    }
    assert.equal(label, title);
    await wb().screenshot('lsp-quick-fix-menu');
    await page.locator('.action-widget .monaco-list-row.action', { hasText: 'Wrap in' }).first().click();
    await page.keyboard.press('Control+S');
    const saved = await waitFor('program.ts saved with the guard', () => {
      const text = readFileSync(join(suite.workspace, 'program.ts'), 'utf8');
      return text !== PROGRAM ? text : null;
    });
    assert.equal(saved, FIXED, `after ${title}`);
    await waitFor('the diagnostic to leave the Problems view', async () => !(await problems()).some((t) => t.includes(MESSAGE)), 60_000);
  });

  it('shows the three code lenses above the guarded main block', async () => {
    const lenses = await waitFor(
      'code lenses over if (isMainProcess())',
      async () => {
        const texts = await wb().page.evaluate(() => Array.from(document.querySelectorAll('.codelens-decoration a')).map((a) => a.textContent?.trim() ?? ''));
        return texts.includes('Trace') ? texts : null;
      },
      60_000,
    );
    assert.deepEqual(lenses, ['Debug all processes', 'Run as single process', 'Trace']);
    await wb().screenshot('lsp-code-lenses');
  });

  /** Clicks the code lens with this title. */
  const clickLens = (title: string) => wb().page.locator('.codelens-decoration a', { hasText: title }).first().click();

  it('"Trace" records the program with `forkscope run --trace` and offers Perfetto', async () => {
    const traceFile = join(suite.workspace, 'program.trace.json');
    await clickLens('Trace');
    const trace = await waitFor('program.trace.json', () => (existsSync(traceFile) ? readFileSync(traceFile, 'utf8') : null), 120_000);
    const events = JSON.parse(trace) as { traceEvents?: unknown[] } | unknown[];
    assert.ok((Array.isArray(events) ? events : (events.traceEvents ?? [])).length > 0, 'the trace holds events');
    await waitFor('the notice naming the trace', async () => (await wb().notifications()).some((n) => n.includes('trace written to')), 30_000);
    await wb().screenshot('lsp-trace-lens');
  });

  it('"Run as single process" starts a Forkscope session with singleProcess set', async () => {
    await clickLens('Run as single process');
    let line: string;
    try {
      line = await waitFor(
        "the program's output in the Debug Console",
        async () => (await wb().debugConsoleRows()).find((t) => t.includes('[ 1, 4, 9 ]')),
        120_000,
      );
    } catch (error) {
      console.log(await wb().notifications());
      console.log(await wb().debugConsoleRows());
      await wb().screenshot('lsp-single-process-failure');
      throw error;
    }
    assert.match(line, /\[ 1, 4, 9 \] 1/);
    await wb().screenshot('lsp-single-process-lens');
  });

  it('"Debug all processes" starts a Forkscope session with real worker processes', async () => {
    await clickLens('Debug all processes');
    const line = await waitFor(
      "the multi-process run's output in the Debug Console",
      async () => (await wb().debugConsoleRows()).find((t) => t.includes('[ 1, 4, 9 ] multi')),
      120_000,
    );
    assert.match(line, /\[ 1, 4, 9 \] multi/);
  });
});
