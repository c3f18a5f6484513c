// The e2e harness: a real VS Code workbench (code-server) in Debian's Chromium, driven by playwright-core
// as E2E.md proves. Test-only; it imports no extension or runtime code, only what a user would see.
//
// API
//   ensureE2EEnvironment(): installs (once, cached outside the repo in FORKSCOPE_E2E_CACHE or
//     ~/.cache/forkscope-e2e, under a lock) Chromium + libkrb5-dev (apt-get), Node 24 and code-server.
//   buildVsix(): `npm run package -- --no-build` when dist/ or the manifest is newer than the .vsix; the .vsix path.
//     (Build first: `npm test` does; FORKSCOPE_E2E_BUILD=1 makes buildVsix run the build as well.)
//   startWorkbench({ workspace, name, settings?, vsix?, timeoutMs? }) → Workbench:
//     fresh user-data and extensions dirs, the .vsix installed, code-server on 127.0.0.1:<free port>,
//     headless Chromium (1600×2000) on `/?folder=<workspace>`, resolved once the explorer lists a file.
//   Workbench: page, url, port, workspace, logFile, extensionsDir;
//     runCommand(title)        F1, type `>title`, click the row whose label is exactly `title`
//     quickPick(label)         click the open quick pick's row whose label is exactly `label`
//     openFile(rel)            Control+P, path, Enter; waits for the tab
//     goToLine(n)              Control+G, `:n`, Enter; waits for `Ln n` in the status bar
//     toggleBreakpoint()       F9 on the cursor's line; waits for the glyph
//     callStackRows()          the Call Stack's rows as text (sessions and frames)
//     debugConsoleRows()       the Debug Console's rows as text
//     frameWith(selector)      the (nested) iframe holding `selector`, e.g. a webview's DOM
//     screenshot(name, clip?)  test-results/<name>.png
//     notifications()          texts of toasts and dialogs showing now
//     activationTimes()        "Developer: Show Running Extensions" read back: id → activation ms
//     close()                  Chromium and code-server's whole process group killed, temp dirs removed
//   openWorkbench({ url, workspace, name }): the same Workbench on a server someone else runs (the demo).
//   closeAllWorkbenches(): closes what is still open (also run by itself after each test file's tests).
//   processesOf(dir): pids whose command line or cwd is under `dir` (see processes.ts).
//   createWorkspace(name, { copy?, files?, links?, launch? }): a temporary folder to open, filled in that order.
//   workbenchSuite({ name, workspace, leftovers, programProcesses?, … }): inside a describe(), the before/after
//     pair every e2e file needs: the workspace made and the workbench started before, and after: the workbench
//     closed, the program's processes killed (and asserted gone when `leftovers: 'fail'`), the folder removed.
//   e2eEnvironmentReady(): whether the e2e environment is installed (without installing it).
//   CHROMIUM_FLAGS: how every e2e Chromium is launched (the workbench's, and view-render's page without one).
//   showCallStack(wb), callStackSessions(wb), callStackBox(wb): Run and Debug made roomy; its session rows by name
//     with state and top frame (scrolling the virtualised list).
//   packRuntime(dir), npmEnv(): the runtime as `npm pack -w runtime` makes it; an npm environment without the caller's npm_*.
//   dapRecorderVsix(): test/fixtures/e2e-dap-recorder packed (pass it in `extraVsix`); it appends every debug
//     session's start, stops and first top frame to <workspace>/.dap-events.jsonl, read back by dapEvents(workspace).
// Every started workbench is also killed on process exit, SIGINT and SIGTERM.
import { spawnSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { cacheDir, CHROMIUM, ensureE2EEnvironment, installExtension, spawnCodeServer, waitForHealthz, type E2EEnvironment } from '../../scripts/e2e-env.mjs';
import { descendantsOf, isRunning, killQuietly, processesOf, type ProcessInfo } from './processes';

export { ensureE2EEnvironment, processesOf, type E2EEnvironment, type ProcessInfo };

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const RESULTS_DIR = join(REPO_ROOT, 'test-results');

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** User settings every workbench starts with: no sticky scroll (E2E.md), no welcome pages, nothing online. */
const BASE_SETTINGS: Record<string, unknown> = {
  'workbench.tree.enableStickyScroll': false,
  'editor.stickyScroll.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'window.commandCenter': false,
};

function newestMtime(paths: string[]): number {
  let newest = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const s = statSync(p);
    if (s.isDirectory()) newest = Math.max(newest, newestMtime(readdirSync(p).map((f) => join(p, f))));
    else newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

/** Packs the .vsix unless one newer than everything it contains exists; returns its path. */
export function buildVsix(): string {
  const { name, version } = require(join(REPO_ROOT, 'package.json')) as { name: string; version: string };
  const vsix = join(REPO_ROOT, `${name}-${version}.vsix`);
  const build = process.env.FORKSCOPE_E2E_BUILD === '1';
  const inputs = ['dist', 'runtime/dist/preload.cjs', 'media', 'package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', '.vscodeignore'].map((p) =>
    join(REPO_ROOT, p),
  );
  if (!build && existsSync(vsix) && statSync(vsix).mtimeMs >= newestMtime(inputs)) return vsix;
  if (!build && !existsSync(join(REPO_ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `npm run build` first');
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'package.mjs'), ...(build ? [] : ['--no-build'])], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`npm run package failed:\n${r.stdout}\n${r.stderr}`);
  return vsix;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface StartOptions {
  /** The folder to open (tests pass a temporary copy of a `test/fixtures/workspace-*` folder). */
  workspace: string;
  /** Names the temp dirs, the log and the screenshots. */
  name: string;
  /** Extra user settings (merged over the harness's defaults). */
  settings?: Record<string, unknown>;
  /** A .vsix to install; default: `buildVsix()`. `false` installs nothing. */
  vsix?: string | false;
  /** More .vsix files to install beside it (e.g. `dapRecorderVsix()`). */
  extraVsix?: string[];
  /** How long start-up may take before it fails; default 180 s (the machine is shared). */
  timeoutMs?: number;
}

export interface CallStackRow {
  text: string;
  kind: 'session' | 'thread' | 'frame' | 'other';
  name: string;
  state: string;
  file: string;
  line: string;
}

export interface Workbench {
  page: Page;
  url: string;
  port: number;
  workspace: string;
  logFile: string;
  /** The extensions folder the .vsix was installed into (removed by close()). */
  extensionsDir: string;
  runCommand(title: string): Promise<void>;
  quickPick(label: string, timeoutMs?: number): Promise<void>;
  openFile(relativePath: string): Promise<void>;
  goToLine(line: number): Promise<void>;
  toggleBreakpoint(): Promise<void>;
  callStackRows(): Promise<CallStackRow[]>;
  /** The Debug Console's rows as text (its list is short in these tests: no scrolling needed). */
  debugConsoleRows(): Promise<string[]>;
  frameWith(selector: string, timeoutMs?: number): Promise<Frame>;
  /** Saves test-results/<name>.png; `clip` keeps a region (CSS pixels) of the 1600×2000 page. */
  screenshot(name: string, clip?: { x: number; y: number; width: number; height: number }): Promise<string>;
  notifications(): Promise<string[]>;
  activationTimes(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

/** Polls `probe` until it returns a value other than undefined/false/null, or fails with `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await delay(200);
  }
}

interface Owned {
  codeServer?: ChildProcess;
  browser?: Browser | BrowserContext;
  tempRoot: string;
}

const live = new Set<Owned>();

/** Synchronous last-resort kill: code-server's group and descendants, Chromium, anything naming our temp dir. */
function killNow(owned: Owned): void {
  const pids = new Set<number>();
  const cs = owned.codeServer?.pid;
  if (cs) {
    for (const p of descendantsOf(cs)) pids.add(p);
    killQuietly(-cs, 'SIGKILL');
    killQuietly(cs, 'SIGKILL');
  }
  for (const p of processesOf(owned.tempRoot)) pids.add(p.pid);
  for (const p of pids) killQuietly(p, 'SIGKILL');
}

/** Closes every workbench this process started or opened and has not closed yet. */
export async function closeAllWorkbenches(): Promise<void> {
  await Promise.all([...live].map((owned) => shutdown(owned)));
}

// Under the test runner, a file that imports the harness closes whatever is still open when its tests end,
// even a workbench whose start-up outlived a timed-out hook (nothing would hold it otherwise).
if (process.env.NODE_TEST_CONTEXT) after(closeAllWorkbenches);

let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const owned of live) {
      killNow(owned);
      rmSync(owned.tempRoot, { recursive: true, force: true });
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const owned of live) killNow(owned);
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

async function shutdown(owned: Owned): Promise<void> {
  const cs = owned.codeServer?.pid;
  const tree = new Set<number>([...(cs ? [cs, ...descendantsOf(cs)] : []), ...processesOf(owned.tempRoot).map((p) => p.pid)]);
  await Promise.race([owned.browser?.close().catch(() => {}), delay(5_000)]);
  if (cs) killQuietly(-cs, 'SIGTERM');
  for (const p of tree) killQuietly(p, 'SIGTERM');
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && [...tree].some(isRunning)) await delay(100);
  killNow(owned);
  for (const p of tree) killQuietly(p, 'SIGKILL');
  live.delete(owned);
  rmSync(owned.tempRoot, { recursive: true, force: true, maxRetries: 3 });
}

/** Starts code-server with Forkscope installed and opens `workspace` in headless Chromium. */
export async function startWorkbench(options: StartOptions): Promise<Workbench> {
  const env = ensureE2EEnvironment();
  const vsix = options.vsix === undefined ? buildVsix() : options.vsix;
  const workspace = resolve(options.workspace);
  const timeoutMs = options.timeoutMs ?? 180_000;
  const safeName = options.name.replace(/[^\w.-]+/g, '-');
  const tempRoot = mkdtempSync(join(tmpdir(), `forkscope-e2e-${safeName}-`));
  const owned: Owned = { tempRoot };
  live.add(owned);
  installExitHandlers();
  try {
    const userData = join(tempRoot, 'user-data');
    const extensions = join(tempRoot, 'extensions');
    mkdirSync(join(userData, 'User'), { recursive: true });
    mkdirSync(extensions, { recursive: true });
    writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...options.settings }, null, 2));
    mkdirSync(RESULTS_DIR, { recursive: true });
    const logFile = join(RESULTS_DIR, `${safeName}.code-server.log`);
    if (vsix) {
      installExtension(env, { userDataDir: userData, extensionsDir: extensions, vsix });
      if (!readdirSync(extensions).some((d) => d.startsWith('forkscope.'))) throw new Error(`code-server installed ${vsix} but no forkscope.* folder appeared`);
    }
    for (const extra of options.extraVsix ?? []) installExtension(env, { userDataDir: userData, extensionsDir: extensions, vsix: extra });

    const port = await freePort();
    const log = createWriteStream(logFile);
    const child = spawnCodeServer(env, { userDataDir: userData, extensionsDir: extensions, port, folder: workspace });
    owned.codeServer = child;
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    const base = `http://127.0.0.1:${port}`;
    await waitForHealthz(port, child, timeoutMs).catch((error: Error) => {
      throw new Error(`${error.message}; see ${logFile}`);
    });

    const url = `${base}/?folder=${encodeURIComponent(workspace)}`;
    const page = await openPage(owned, env, url, workspace, timeoutMs);
    return makeWorkbench({ page, url, port, workspace, logFile, extensionsDir: extensions, owned });
  } catch (error) {
    await shutdown(owned);
    throw error;
  }
}

/** Launches headless Chromium (profile under the owned temp dir), opens `url`, waits for the workbench and the explorer. */
async function openPage(owned: Owned, env: E2EEnvironment, url: string, workspace: string, timeoutMs: number): Promise<Page> {
  const browser = await chromium.launchPersistentContext(join(owned.tempRoot, 'chromium'), {
    executablePath: env.chromium,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1600, height: 2000 },
    timeout: 60_000,
  });
  owned.browser = browser;
  // tsx compiles with keepNames, so functions handed to page.evaluate may call esbuild's `__name`.
  await browser.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(30_000);
  await page.goto(url, { timeout: timeoutMs });
  await page.waitForSelector('.monaco-workbench', { timeout: timeoutMs });
  const firstFile = readdirSync(workspace).find((f) => !f.startsWith('.'));
  if (firstFile) {
    await waitFor(
      `the explorer to list ${firstFile}`,
      () =>
        page.evaluate(
          (name) => Array.from(document.querySelectorAll('.explorer-folders-view .monaco-list-row')).some((r) => r.textContent?.trim() === name),
          firstFile,
        ),
      timeoutMs,
    );
  }
  return page;
}

/**
 * Opens a workbench some other process serves (e.g. `npm run demo`) in headless Chromium. close() ends
 * only the browser; the server stays its starter's to stop.
 */
export async function openWorkbench(options: { url: string; workspace: string; name: string; timeoutMs?: number }): Promise<Workbench> {
  const env = ensureE2EEnvironment();
  const tempRoot = mkdtempSync(join(tmpdir(), `forkscope-e2e-${options.name.replace(/[^\w.-]+/g, '-')}-`));
  const owned: Owned = { tempRoot };
  live.add(owned);
  installExitHandlers();
  try {
    const page = await openPage(owned, env, options.url, resolve(options.workspace), options.timeoutMs ?? 180_000);
    return makeWorkbench({
      page,
      url: options.url,
      port: Number(new URL(options.url).port),
      workspace: resolve(options.workspace),
      logFile: '',
      extensionsDir: '',
      owned,
    });
  } catch (error) {
    await shutdown(owned);
    throw error;
  }
}

function makeWorkbench(w: { page: Page; url: string; port: number; workspace: string; logFile: string; extensionsDir: string; owned: Owned }): Workbench {
  const { page } = w;

  async function quickPick(label: string, timeoutMs = 15_000): Promise<void> {
    const index = await waitFor(
      `a quick pick row labelled "${label}"`,
      () =>
        page.evaluate((want) => {
          const rows = Array.from(document.querySelectorAll('.quick-input-widget .monaco-list-row'));
          const i = rows.findIndex((r) => r.querySelector('.label-name')?.textContent?.trim() === want);
          return i >= 0 ? i + 1 : null; // 0 would read as "not yet"
        }, label),
      timeoutMs,
    );
    await page
      .locator('.quick-input-widget .monaco-list-row')
      .nth(index - 1)
      .click();
  }

  async function openQuickInput(key: string): Promise<void> {
    await page.keyboard.press('Escape');
    await page.keyboard.press(key);
    // Query via evaluate: the widget only exists after its first opening (E2E.md pitfalls).
    await waitFor(`the quick input after ${key}`, () =>
      page.evaluate(() => {
        const input = document.querySelector<HTMLInputElement>('.quick-input-widget input');
        return !!input && input.offsetParent !== null && document.activeElement === input;
      }),
    );
  }

  const workbench: Workbench = {
    page,
    url: w.url,
    port: w.port,
    workspace: w.workspace,
    logFile: w.logFile,
    extensionsDir: w.extensionsDir,
    quickPick,

    async runCommand(title) {
      await openQuickInput('F1');
      await page.locator('.quick-input-widget input').fill(`>${title}`);
      await quickPick(title);
    },

    async openFile(relativePath) {
      const want = basename(relativePath);
      // The workbench's first file search can come back empty on a loaded machine (its index still building): a new
      // quick open asks again.
      for (let attempt = 1; ; attempt++) {
        await openQuickInput('Control+P');
        await page.locator('.quick-input-widget input').fill(relativePath);
        const listed = await waitFor(`"${want}" in the quick open list`, () =>
          page.evaluate(
            (name) => Array.from(document.querySelectorAll('.quick-input-widget .monaco-list-row .label-name')).some((e) => e.textContent?.trim() === name),
            want,
          ),
        ).catch((error: unknown) => (attempt < 3 ? false : Promise.reject(error)));
        if (listed) break;
      }
      await page.keyboard.press('Enter');
      await waitFor(`the ${want} tab`, () =>
        page.evaluate(
          (name) => Array.from(document.querySelectorAll('.tabs-container .tab.active')).some((t) => t.getAttribute('data-resource-name') === name),
          want,
        ),
      );
    },

    async goToLine(line) {
      // On a loaded machine the first Enter can land before the widget takes it: one more try.
      for (let attempt = 1; ; attempt++) {
        try {
          await openQuickInput('Control+G');
          await page.locator('.quick-input-widget input').fill(`:${line}`);
          await page.keyboard.press('Enter');
          await waitFor(
            `the status bar to show Ln ${line}`,
            () =>
              page.evaluate(
                (n) => Array.from(document.querySelectorAll('.statusbar-item')).some((e) => new RegExp(`\\bLn ${n}\\b`).test(e.textContent ?? '')),
                line,
              ),
            attempt === 1 ? 15_000 : 30_000,
          );
          return;
        } catch (error) {
          if (attempt === 2) throw error;
        }
      }
    },

    async toggleBreakpoint() {
      // code-server 4.139 draws the glyph among the glyph-margin widgets, not under .margin-view-overlays.
      const count = () => page.evaluate(() => document.querySelectorAll('.editor-instance [class*="codicon-debug-breakpoint"]').length);
      const before = await count();
      await page.keyboard.press('F9');
      await waitFor('a breakpoint glyph to appear or go', async () => (await count()) !== before);
    },

    async callStackRows() {
      return page.evaluate(() =>
        Array.from(document.querySelectorAll('.debug-call-stack .monaco-list-rows > .monaco-list-row')).map((row) => {
          const text = (sel: string) => row.querySelector(sel)?.textContent?.trim() ?? '';
          const kind = row.querySelector('.session')
            ? 'session'
            : row.querySelector('.thread')
              ? 'thread'
              : row.querySelector('.stack-frame')
                ? 'frame'
                : 'other';
          return {
            text: row.textContent?.trim() ?? '',
            kind,
            name: text('.session .name') || text('.thread .name') || text('.stack-frame .expression'),
            state: text('.state'),
            file: text('.stack-frame .file-name'),
            line: text('.stack-frame .line-number'),
          } as const;
        }),
      );
    },

    async debugConsoleRows() {
      return page.evaluate(() => Array.from(document.querySelectorAll('.repl .monaco-list-row')).map((r) => r.textContent ?? ''));
    },

    async frameWith(selector, timeoutMs = 30_000) {
      return waitFor(
        `a frame holding ${selector}`,
        async () => {
          for (const frame of page.frames()) {
            if (frame.isDetached()) continue;
            const found = await frame.$(selector).catch(() => null);
            if (found) return frame;
          }
          return null;
        },
        timeoutMs,
      );
    },

    async screenshot(name, clip) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const path = join(RESULTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
      // Evidence, not a check: a screenshot the loaded machine cannot take in time is said, and the test goes on.
      await page.screenshot({ path, timeout: 30_000, ...(clip ? { clip } : {}) }).catch((error: unknown) => {
        console.log(`# screenshot ${name} not taken: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      });
      return path;
    },

    async notifications() {
      return page.evaluate(() =>
        Array.from(document.querySelectorAll('.notifications-toasts .notification-list-item-message, .monaco-dialog-box .dialog-message-text')).map(
          (e) => e.textContent?.trim() ?? '',
        ),
      );
    },

    async activationTimes() {
      await workbench.runCommand('Developer: Show Running Extensions');
      const rows = await waitFor(
        'the Running Extensions editor to list activation times',
        async () => {
          const found = await page.evaluate(() =>
            Array.from(document.querySelectorAll('.runtime-extensions-editor .monaco-list-row')).map((row) => ({
              id: row.querySelector('.extension .name, .name')?.textContent?.trim() ?? '',
              msg: row.querySelector('.activation-time')?.textContent?.trim() ?? '',
              title: row.querySelector('.activation-time')?.getAttribute('title') ?? '',
              text: row.textContent ?? '',
            })),
          );
          return found.length > 0 ? found : null;
        },
        30_000,
      );
      const times = new Map<string, number>();
      for (const row of rows) {
        const ms = /(\d+(?:\.\d+)?)\s*ms/.exec(row.msg)?.[1];
        if (row.id && ms !== undefined) times.set(row.id, Number(ms));
      }
      return times;
    },

    async close() {
      await shutdown(w.owned);
    },
  };
  return workbench;
}

/** Whether `ensureE2EEnvironment()` would return at once (everything installed), without installing anything. */
export function e2eEnvironmentReady(): boolean {
  const cache = cacheDir();
  return (
    existsSync(join(cache, 'ready.json')) &&
    existsSync(join(cache, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js')) &&
    existsSync(CHROMIUM)
  );
}

export interface WorkspaceSpec {
  /** A folder copied in first (e.g. a `test/fixtures/workspace-*` folder). */
  copy?: string;
  /** Files written into it: relative path → text. */
  files?: Record<string, string>;
  /** Symbolic links made in it: relative path → target (absolute, or relative to the link's folder). */
  links?: Record<string, string>;
  /** The configurations of `.vscode/launch.json`. */
  launch?: object[];
}

/** A temporary folder `forkscope-ws-<name>-*` filled from `spec` (copy, files, links, launch.json, in that order). */
export function createWorkspace(name: string, spec: WorkspaceSpec): string {
  const workspace = mkdtempSync(join(tmpdir(), `forkscope-ws-${name}-`));
  if (spec.copy) cpSync(spec.copy, workspace, { recursive: true });
  const at = (rel: string) => {
    const path = join(workspace, rel);
    mkdirSync(dirname(path), { recursive: true });
    return path;
  };
  for (const [rel, text] of Object.entries(spec.files ?? {})) writeFileSync(at(rel), text);
  for (const [rel, target] of Object.entries(spec.links ?? {})) symlinkSync(target, at(rel));
  if (spec.launch) writeFileSync(at(join('.vscode', 'launch.json')), JSON.stringify({ version: '0.2.0', configurations: spec.launch }, null, 2));
  return workspace;
}

/** Everything under `workspace` but the workbench's own processes (code-server, its servers, Chromium). */
export function programProcessesUnder(workspace: string): ProcessInfo[] {
  return processesOf(workspace).filter((p) => !/code-server|--clientProcessId|chromium/.test(p.cmdline));
}

export interface SuiteOptions extends Omit<StartOptions, 'workspace' | 'vsix'> {
  workspace: WorkspaceSpec;
  /** After the tests, processes of the program still alive are killed; `'fail'` also fails the after-hook. */
  leftovers: 'fail' | 'kill';
  /** The program's processes; default: `programProcessesUnder(workspace)`. */
  programProcesses?: (workspace: string) => ProcessInfo[];
}

export interface Suite {
  /** The started workbench (throws before the before-hook has run). */
  readonly wb: Workbench;
  /** The workspace folder (throws before the before-hook has run). */
  readonly workspace: string;
  /** The program's processes now, as `programProcesses` finds them. */
  programProcesses(): ProcessInfo[];
}

/**
 * Registers, in the calling describe(), the before-hook that creates the workspace and starts the workbench
 * on it (with the freshly packed .vsix), and the after-hook that closes the workbench, ends the program's
 * processes and removes the folder.
 */
export function workbenchSuite(options: SuiteOptions): Suite {
  let workspace: string | undefined;
  let wb: Workbench | undefined;
  const find = (dir: string) => (options.programProcesses ?? programProcessesUnder)(dir);
  const suite: Suite = {
    get wb() {
      if (!wb) throw new Error(`the ${options.name} workbench did not start`);
      return wb;
    },
    get workspace() {
      if (!workspace) throw new Error(`the ${options.name} workspace was not created`);
      return workspace;
    },
    programProcesses: () => (workspace ? find(workspace) : []),
  };
  before(async () => {
    ensureE2EEnvironment();
    workspace = createWorkspace(options.name, options.workspace);
    const { workspace: _spec, leftovers: _leftovers, programProcesses: _find, ...start } = options;
    wb = await startWorkbench({ ...start, workspace, vsix: buildVsix() });
  });
  after(async () => {
    await wb?.close();
    if (!workspace) return;
    const left = find(workspace);
    for (const p of left) killQuietly(p.pid, 'SIGKILL');
    rmSync(workspace, { recursive: true, force: true });
    if (options.leftovers === 'fail')
      assert.deepEqual(
        left.map((p) => `${p.pid} ${p.cmdline}`),
        [],
        `processes of the program left after the ${options.name} tests`,
      );
  });
  return suite;
}

const DAP_RECORDER = join(REPO_ROOT, 'test', 'fixtures', 'e2e-dap-recorder');

/** Packs test/fixtures/e2e-dap-recorder into test-results/dap-recorder.vsix (again only when its sources changed). */
export function dapRecorderVsix(): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const vsix = join(RESULTS_DIR, 'dap-recorder.vsix');
  if (existsSync(vsix) && statSync(vsix).mtimeMs >= newestMtime([DAP_RECORDER])) return vsix;
  const partial = `${vsix}.${process.pid}.partial.vsix`;
  const vsce = join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', partial], {
    cwd: DAP_RECORDER,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`packing the DAP recorder failed:\n${r.stdout}\n${r.stderr}`);
  renameSync(partial, vsix); // several runs may pack at once: none reads a half-written file
  return vsix;
}

/** One line of <workspace>/.dap-events.jsonl (see test/fixtures/e2e-dap-recorder/extension.js). */
export type DapEvent =
  | { t: number; ev: 'ready' }
  | { t: number; ev: 'session'; id: string; name: string; type: string; request: string; parent?: string }
  | { t: number; ev: 'stopped'; id: string; reason: string; threadId?: number }
  | { t: number; ev: 'stack'; id: string; line: number; path: string }
  | { t: number; ev: 'output'; id: string; category?: string; output: string }
  | { t: number; ev: 'terminated' | 'exited'; id: string }
  | { t: number; ev: 'error'; id: string; message: string }
  | { t: number; ev: 'exit'; id: string; code?: number; signal?: string }
  | { t: number; ev: 'response'; id: string; command: 'launch' | 'attach'; success: boolean }
  | { t: number; ev: 'breakpoints'; count: number };

/**
 * Sets exactly these breakpoints (1-based lines), through the DAP recorder's command (`dapRecorder()` must be
 * installed): unlike toggling in an editor, it does not depend on which breakpoints exist already.
 */
export async function setBreakpoints(wb: Workbench, breakpoints: Array<{ file: string; line: number }>): Promise<void> {
  writeFileSync(join(wb.workspace, '.e2e-breakpoints.json'), JSON.stringify(breakpoints));
  const since = Date.now();
  await wb.runCommand('DAP Recorder: Set Breakpoints From File');
  await waitFor(
    `${breakpoints.length} breakpoints set`,
    () => dapEvents(wb.workspace).some((e) => e.ev === 'breakpoints' && e.t >= since && e.count === breakpoints.length),
    30_000,
  );
}

/** What the DAP recorder wrote so far in `workspace` (a half-written last line is left for the next read). */
export function dapEvents(workspace: string): DapEvent[] {
  const file = join(workspace, '.dap-events.jsonl');
  if (!existsSync(file)) return [];
  const out: DapEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      if (line) out.push(JSON.parse(line) as DapEvent);
    } catch {}
  }
  return out;
}

/** A Call Stack session as a person reads it: its state label and, when expanded, its top frame (`file:line:col`). */
export interface SessionView {
  state: string;
  top?: string;
}

/** The Call Stack list's box, when Run and Debug shows it. */
export function callStackBox(wb: Workbench): Promise<{ x: number; y: number; width: number; height: number } | null> {
  return wb.page.evaluate(() => {
    const el = document.querySelector('.debug-call-stack .monaco-list');
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return r.height > 0 ? { x: r.left, y: r.top, width: r.width, height: r.height } : null;
  });
}

/** Opens Run and Debug if it is not showing, closes the bottom panel and collapses Variables, Watch and Breakpoints. */
export async function showCallStack(wb: Workbench): Promise<void> {
  const showing = () => wb.page.evaluate(() => !!document.querySelector('.debug-call-stack'));
  // VS Code opens Run and Debug on a workbench's first session start only.
  if (!(await waitFor('the Run and Debug view', showing, 20_000).catch(() => false))) await wb.runCommand('View: Show Run and Debug');
  await waitFor('the Run and Debug view', showing, 60_000);
  await wb.runCommand('View: Close Panel').catch(() => undefined);
  for (const title of ['Variables', 'Watch', 'Breakpoints']) {
    const header = await wb.page.evaluate((t) => {
      const h = Array.from(document.querySelectorAll('.pane-header')).find(
        (e) => e.querySelector('h3.title')?.textContent?.trim() === t && e.getAttribute('aria-expanded') === 'true',
      );
      if (!h) return null;
      const r = h.getBoundingClientRect();
      return { x: r.left + 40, y: r.top + r.height / 2 };
    }, title);
    if (header) await wb.page.mouse.click(header.x, header.y);
  }
}

/** Every session row of the Call Stack with its top frame, scrolling the virtualised list with the real wheel. */
export async function callStackSessions(wb: Workbench): Promise<Map<string, SessionView>> {
  const found = new Map<string, SessionView>();
  const box = await callStackBox(wb);
  if (!box) return found;
  const visibleRows = async () => {
    const rows = await wb.callStackRows();
    const tops = await wb.page.evaluate(() =>
      Array.from(document.querySelectorAll('.debug-call-stack .monaco-list-rows > .monaco-list-row')).map((r) => r.getBoundingClientRect().top),
    );
    // The list positions rows absolutely: DOM order may differ from what one sees.
    return rows.map((r, i) => ({ ...r, top: tops[i] ?? 0 })).sort((a, b) => a.top - b.top);
  };
  await wb.page.mouse.move(box.x + box.width / 2, box.y + Math.min(box.height / 2, 50));
  await wb.page.mouse.wheel(0, -100_000);
  await delay(100);
  let last = '';
  for (let i = 0; i < 60; i++) {
    const rows = await visibleRows();
    rows.forEach((r, j) => {
      if (r.kind !== 'session') return;
      const next = rows[j + 1];
      const top = next?.kind === 'frame' ? `${next.file}:${next.line}` : found.get(r.name)?.top;
      found.set(r.name, { state: r.state, ...(top ? { top } : {}) });
    });
    // The end of the list: a scroll that shows exactly the same rows.
    const seen = rows.map((r) => r.text).join('\n');
    if (seen === last) break;
    last = seen;
    await wb.page.mouse.wheel(0, Math.max(60, box.height * 0.4));
    await delay(120);
  }
  return found;
}

/** The environment of a child npm: the parent npm's own `npm_*` settings (workspace, prefix…) must not leak in. */
export function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return env;
}

/** `npm pack -w runtime` into `dir` (the runtime must be built): the tarball a user installs. */
export function packRuntime(dir: string): string {
  const r = spawnSync('npm', ['pack', '-w', 'runtime', '--pack-destination', dir, '--json'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: npmEnv(),
    timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`npm pack -w runtime failed:\n${r.stdout}\n${r.stderr}`);
  const [packed] = JSON.parse(r.stdout) as Array<{ filename: string }>;
  return join(dir, basename(packed!.filename));
}
