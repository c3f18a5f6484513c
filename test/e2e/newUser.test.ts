// A new user's first hour (issue 18): the runtime as `npm pack` makes it, installed into a fresh project outside
// the repository (its own package.json, no workspace, no tsx), runs a TypeScript pool program with
// `npx forkscope run`; the same project opened in code-server with the built .vsix: F5 on main.ts stops every pool
// worker at a breakpoint in its .ts function, all-stop (`stopAll`) pauses every row of the Call Stack, each row
// named as the runtime names the process, and Stop leaves no process. Uses test/e2e/harness.ts only.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callStackBox, callStackSessions, npmEnv, packRuntime, REPO_ROOT, showCallStack, waitFor, workbenchSuite, type SessionView } from './harness';
import { killQuietly } from './processes';

const PROGRAM = `import { Barrier, Pool, isMainProcess } from 'forkscope';

export async function square(x: number, everyone: Barrier): Promise<number> {
  await everyone.wait(); // every worker holds a task before any goes on
  const y = x * x; // WORKER_LINE
  return y;
}

async function main(): Promise<void> {
  await using pool = new Pool(3);
  const everyone = new Barrier(3);
  const squares = await pool.starmap(square, [[1, everyone], [2, everyone], [3, everyone]], { chunksize: 1 });
  console.log(\`squares \${squares.join(' ')}\`);
}

if (isMainProcess()) void main();
`;
const WORKER_LINE = PROGRAM.split('\n').findIndex((l) => l.includes('// WORKER_LINE')) + 1;
const WORKER_SESSION = /^SpawnPoolWorker-\d+ · worker · pid (\d+)$/;
const MAIN_SESSION = /^MainProcess · main · pid \d+$/;

describe('a new user: forkscope from its tarball, the extension from its .vsix', { timeout: 900_000 }, () => {
  const suite = workbenchSuite({
    name: 'newuser',
    leftovers: 'kill',
    workspace: {
      files: {
        // What `npm init` and a first file give, as an ES module package: on a Node without type stripping its
        // TypeScript needs module hooks, whose thread must not show in the Call Stack (debug.test.ts runs CommonJS).
        'package.json': JSON.stringify({ name: 'first-hour', version: '1.0.0', private: true, type: 'module' }, null, 2),
        'main.ts': PROGRAM,
      },
      launch: [{ type: 'forkscope', request: 'launch', name: 'First hour', program: '${workspaceFolder}/main.ts', stopAll: true }],
    },
  });
  const wb = () => suite.wb;
  const packDir = mkdtempSync(join(tmpdir(), 'forkscope-pack-'));
  after(() => rmSync(packDir, { recursive: true, force: true }));

  before(() => {
    const tarball = packRuntime(packDir);
    // Offline when the npm cache holds what the package needs; the install script may build the native binding.
    const r = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      cwd: suite.workspace,
      encoding: 'utf8',
      env: npmEnv(),
      timeout: 600_000,
    });
    if (r.status !== 0) throw new Error(`npm install ${tarball} failed:\n${r.stdout}\n${r.stderr}`);
  });

  it('installs forkscope alone: no workspace, no tsx', () => {
    const manifest = JSON.parse(readFileSync(join(suite.workspace, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: unknown;
    };
    assert.deepEqual(Object.keys(manifest.dependencies ?? {}), ['forkscope']);
    assert.equal(manifest.devDependencies, undefined);
    assert.equal(existsSync(join(suite.workspace, 'node_modules', 'tsx')), false, 'no tsx in the project');
    assert.ok(!suite.workspace.startsWith(REPO_ROOT), 'the project lies outside the repository');
  });

  it("npx forkscope run main.ts: the output passes through and the exit code is the program's", () => {
    const r = spawnSync('npx', ['--no-install', 'forkscope', 'run', 'main.ts'], { cwd: suite.workspace, encoding: 'utf8', env: npmEnv(), timeout: 180_000 });
    assert.equal(r.status, 0, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stdout, /^squares 1 4 9$/m);
    assert.match(r.stderr, /MainProcess/, 'the process tree on stderr');
  });

  // On Node 20 this ES module TypeScript needs Node's module hooks thread in the main process; the inspector lists it
  // as a worker, and js-debug showed it as a "[worker 2]" row that never paused (src/debug/inspectorProxy.ts hides it).
  it('F5 stops every pool worker at a breakpoint in main.ts; all-stop pauses every row; Stop leaves no process', async () => {
    const programProcesses = () => suite.programProcesses();
    const atBreakpoint = (v: SessionView) => /Paused on breakpoint/i.test(v.state) && new RegExp(`(^|/)main\\.ts:${WORKER_LINE}:`).test(v.top ?? '');
    const pidOf = (name: string) => WORKER_SESSION.exec(name)![1]!;
    try {
      await wb().openFile('main.ts');
      await wb().goToLine(WORKER_LINE);
      await wb().toggleBreakpoint();
      await wb().page.keyboard.press('F5');
      await showCallStack(wb());
      // stopAll: the first worker on the breakpoint pauses every other process where it is; Continue resumes them
      // all, and the next worker to reach the line pauses them again, until each worker has stopped there.
      const seen = new Set<string>();
      for (let round = 1; seen.size < 3; round++) {
        assert.ok(round <= 6, `every worker on the breakpoint within 6 rounds (seen: ${[...seen].join(', ')})`);
        const rows = await waitFor(
          `round ${round}: a new worker on the breakpoint and every row of the Call Stack paused`,
          async () => {
            const all = [...(await callStackSessions(wb()))];
            const workers = all.filter(([name]) => WORKER_SESSION.test(name));
            const fresh = workers.filter(([name, v]) => atBreakpoint(v) && !seen.has(pidOf(name)));
            const main = all.filter(([name]) => MAIN_SESSION.test(name));
            return fresh.length > 0 && workers.length === 3 && main.length === 1 && all.every(([, v]) => /^Paused/i.test(v.state)) ? all : null;
          },
          240_000,
        ).catch(async (error: unknown) => {
          console.log(JSON.stringify([...(await callStackSessions(wb()).catch(() => new Map<string, SessionView>()))], null, 1));
          throw error;
        });
        const names = rows.map(([name]) => name);
        const strangers = names.filter((name) => !MAIN_SESSION.test(name) && !WORKER_SESSION.test(name) && name !== 'First hour');
        assert.deepEqual(strangers, [], `only the program's processes, named by the runtime: ${names.join(' | ')}`);
        for (const [name, v] of rows) if (WORKER_SESSION.test(name) && atBreakpoint(v)) seen.add(pidOf(name));
        if (round === 1) {
          // A name read once above may hide a second row of the same name (js-debug's attach session, holding no
          // thread, "Running" for ever): the main process is one row, read at the top of the list.
          // Scroll the list itself to its top (the pointer over it: a wheel elsewhere left it mid-list, and the row
          // unseen, in a fresh clone's run) until the row shows; the count and state are checked as before.
          const mainRowsAtTop = async () => {
            const box = await callStackBox(wb());
            if (box) await wb().page.mouse.move(box.x + box.width / 2, box.y + Math.min(box.height / 2, 50));
            await wb().page.mouse.wheel(0, -100_000);
            return (await wb().callStackRows()).filter((r) => r.kind === 'session' && MAIN_SESSION.test(r.name));
          };
          const mainRows = await waitFor(
            'the main process row at the top of the Call Stack',
            async () => {
              const rows = await mainRowsAtTop();
              return rows.length > 0 ? rows : null;
            },
            10_000,
          ).catch(mainRowsAtTop);
          const shown = mainRows.length > 0 ? '' : ` (rows shown: ${JSON.stringify((await wb().callStackRows()).map((r) => `${r.kind} ${r.name}`))})`;
          assert.deepEqual(
            mainRows.map((r) => r.state.replace(/^Paused.*/i, 'Paused')),
            ['Paused'],
            `one main process row, paused: ${JSON.stringify(mainRows)}${shown}`,
          );
          await wb().screenshot('newuser-all-paused');
        }
        if (seen.size < 3) await wb().runCommand('Debug: Continue');
      }

      await wb().page.keyboard.press('Escape');
      await wb().page.keyboard.press('Shift+F5');
      const left = await waitFor('every process of the program to end', () => (programProcesses().length === 0 ? [] : null), 60_000).catch(() =>
        programProcesses(),
      );
      assert.deepEqual(
        left.map((p) => `${p.pid} ${p.cmdline}`),
        [],
        'no process of the program survives Stop',
      );
    } catch (error) {
      await wb()
        .screenshot('newuser-failure')
        .catch(() => undefined);
      for (const p of programProcesses()) killQuietly(p.pid, 'SIGKILL');
      throw error;
    }
  });
});
