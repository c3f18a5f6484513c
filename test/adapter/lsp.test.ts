// The built language server (dist/server.js) driven over the real LSP protocol on stdio: every diagnostic,
// quick fix and code lens with positive and negative cases, hovers, and silence on the examples and the
// runtime's own tests. Each suite starts one server and shuts it down (no process left).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { Commands } from '../../src/contributions';
import { LspClient } from './lspClient';

const ROOT = join(__dirname, '..', '..');
const HEADER = "import { Process, Pool, ProcessPoolExecutor, Manager, Queue, Lock, isMainProcess } from 'forkscope';\n";
let counter = 0;
const uriFor = (name = 'program.ts') => `file:///tmp/forkscope-lsp/${counter++}-${name}`;

/** One program per diagnostic code that must be reported, and one like it that must not. */
const CASES: Record<string, { positive: string; negative: string; fixable: boolean }> = {
  'unguarded-start': {
    positive: 'const pool = new Pool();\nawait pool.close();\n',
    negative: 'if (isMainProcess()) {\n  await using pool = new Pool();\n}\n',
    fixable: true,
  },
  'unfindable-target': {
    positive: 'function work() {}\nif (isMainProcess()) {\n  const p = new Process({ target: work });\n  p.start();\n  await p.join();\n}\n',
    negative: 'export function work() {}\nif (isMainProcess()) {\n  const p = new Process({ target: work });\n  p.start();\n  await p.join();\n}\n',
    fixable: true,
  },
  'unserialisable-argument': {
    positive:
      'export function work(f: unknown) {}\nif (isMainProcess()) {\n  const p = new Process({ target: work, args: [() => 1] });\n  p.start();\n  await p.join();\n}\n',
    negative:
      'export function work(f: unknown) {}\nif (isMainProcess()) {\n  const p = new Process({ target: work, args: [{ n: 1 }] });\n  p.start();\n  await p.join();\n}\n',
    fixable: false,
  },
  'unshared-state': {
    positive:
      'let total = 0;\nexport function work(x: number) { total += x; }\nif (isMainProcess()) {\n  await using pool = new Pool();\n  await pool.map(work, [1, 2]);\n}\n',
    negative:
      'export function work(x: number) { let total = 0; total += x; return total; }\nif (isMainProcess()) {\n  await using pool = new Pool();\n  await pool.map(work, [1, 2]);\n}\n',
    fixable: false,
  },
  'unreleased-lock': {
    positive: 'export async function work(lock: Lock) {\n  await lock.acquire();\n  step();\n  lock.release();\n}\nfunction step() {}\n',
    negative:
      'export async function work(lock: Lock) {\n  await lock.acquire();\n  try {\n    step();\n  } finally {\n    lock.release();\n  }\n}\nfunction step() {}\n',
    fixable: true,
  },
  'unclosed-pool': {
    positive: 'export async function main() {\n  const pool = new Pool();\n  await pool.map(sq, [1]);\n}\nexport function sq(x: number) { return x * x; }\n',
    negative:
      'export async function main() {\n  await using pool = new Pool();\n  await pool.map(sq, [1]);\n}\nexport function sq(x: number) { return x * x; }\n',
    fixable: true,
  },
  'get-after-producers-ended': {
    positive:
      'export async function put(q: Queue) { await q.put(1); }\nif (isMainProcess()) {\n  const q = new Queue();\n  const p = new Process({ target: put, args: [q] });\n  p.start();\n  await p.join();\n  console.log(await q.get());\n}\n',
    negative:
      'export async function put(q: Queue) { await q.put(1); }\nif (isMainProcess()) {\n  const q = new Queue();\n  const p = new Process({ target: put, args: [q] });\n  p.start();\n  console.log(await q.get());\n  await p.join();\n}\n',
    fixable: true,
  },
  'join-before-drain': {
    positive:
      'export async function put(q: Queue) { await q.put(1); }\nif (isMainProcess()) {\n  const q = new Queue();\n  const p = new Process({ target: put, args: [q] });\n  p.start();\n  await p.join();\n  console.log(await q.get({ timeout: 1000 }));\n}\n',
    negative:
      'export async function put(q: Queue) { await q.put(1); }\nif (isMainProcess()) {\n  const q = new Queue();\n  const p = new Process({ target: put, args: [q] });\n  p.start();\n  console.log(await q.get({ timeout: 1000 }));\n  await p.join();\n}\n',
    fixable: false,
  },
  'tiny-chunks': {
    positive:
      'export function sq(x: number) { return x * x; }\nif (isMainProcess()) {\n  await using pool = new Pool();\n  await pool.map(sq, Array.from({ length: 200_000 }, (_, i) => i), { chunksize: 1 });\n}\n',
    negative:
      'export function sq(x: number) { return x * x; }\nif (isMainProcess()) {\n  await using pool = new Pool();\n  await pool.map(sq, [1, 2], { chunksize: 1 });\n}\n',
    fixable: true,
  },
};

const only = (diagnostics: Diagnostic[], code: string) => diagnostics.filter((d) => d.code === code);

describe('language server over LSP (stdio)', { timeout: 60_000 }, () => {
  let client: LspClient;
  let capabilities: Record<string, unknown>;

  before(async () => {
    const started = await LspClient.start({ docsUrl: 'https://docs.example/diagnostics.md' });
    client = started.client;
    capabilities = started.init.capabilities as Record<string, unknown>;
  });
  after(async () => {
    await client?.dispose();
  });

  it('initialize announces incremental sync, quick fixes, code lenses and hovers', () => {
    assert.equal(capabilities.textDocumentSync, 2);
    assert.deepEqual(capabilities.codeActionProvider, { codeActionKinds: ['quickfix'] });
    assert.ok(capabilities.codeLensProvider);
    assert.equal(capabilities.hoverProvider, true);
  });

  for (const [code, c] of Object.entries(CASES)) {
    describe(code, () => {
      it('is reported with its message, source and doc link', async () => {
        const diagnostics = only(await client.open(uriFor(), HEADER + c.positive), code);
        assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
        const [d] = diagnostics;
        assert.equal(d!.source, 'forkscope');
        assert.equal(d!.codeDescription?.href, `https://docs.example/diagnostics.md#${code}`);
        assert.ok(d!.message.length > 40);
      });
      it('is not reported on the corrected program', async () => {
        assert.deepEqual(only(await client.open(uriFor(), HEADER + c.negative), code), []);
      });
      if (c.fixable) {
        it('has a quick fix that removes it', async () => {
          const uri = uriFor();
          const [d] = only(await client.open(uri, HEADER + c.positive), code);
          const actions = await client.codeActions(uri, [d!]);
          assert.ok(actions.length >= 1);
          const action = actions.find((a) => a.isPreferred) ?? actions[0]!;
          assert.equal(action.kind, 'quickfix');
          assert.deepEqual(
            action.diagnostics?.map((x) => x.code),
            [code],
          );
          const after = await client.edit(uri, action.edit!.changes![uri]!);
          assert.deepEqual(only(after, code), [], client.text(uri));
        });
      } else {
        it('offers no quick fix (none is obvious)', async () => {
          const uri = uriFor();
          const diagnostics = only(await client.open(uri, HEADER + c.positive), code);
          assert.deepEqual(await client.codeActions(uri, diagnostics), []);
        });
      }
    });
  }

  it('every documented code has its heading in docs/diagnostics.md', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'diagnostics.md'), 'utf8');
    for (const code of Object.keys(CASES)) assert.match(docs, new RegExp(`^## ${code}$`, 'm'));
  });

  it('quick fixes are only offered for its own diagnostics', async () => {
    const uri = uriFor();
    const [d] = only(await client.open(uri, HEADER + CASES['unguarded-start']!.positive), 'unguarded-start');
    const foreign = { ...d!, source: 'ts' };
    assert.deepEqual(await client.codeActions(uri, [foreign]), []);
    const moved = { ...d!, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } } };
    assert.deepEqual(await client.codeActions(uri, [moved]), []);
  });

  it('files that do not import forkscope get no diagnostics', async () => {
    assert.deepEqual(
      await client.open(uriFor(), "import { Pool } from 'piscina';\nconst pool = new Pool({ filename: 'w.js' });\nawait pool.run(() => 1);\n"),
      [],
    );
  });

  it('re-analyses incrementally on each edit and clears diagnostics on close', async () => {
    const uri = uriFor();
    const text = HEADER + 'const pool = new Pool();\n';
    assert.equal(only(await client.open(uri, text), 'unguarded-start').length, 1);
    const line = 1;
    const fixed = await client.edit(uri, [{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, newText: 'if (isMainProcess()) {}\n// ' }]);
    assert.deepEqual(only(fixed, 'unguarded-start'), []);
    const broken = await client.edit(uri, [{ range: { start: { line: 2, character: 0 }, end: { line: 2, character: 3 } }, newText: '' }]);
    assert.equal(only(broken, 'unguarded-start').length, 1);
  });

  it('JavaScript with require() is analysed too', async () => {
    const diagnostics = await client.open(uriFor('program.js'), "const { Pool } = require('forkscope');\nconst pool = new Pool();\n", 'javascript');
    assert.equal(only(diagnostics, 'unguarded-start').length, 1);
  });

  describe('code lenses', () => {
    it('three lenses above the top-level isMainProcess() block, each running a Forkscope command', async () => {
      const uri = uriFor();
      await client.open(uri, HEADER + 'export function f() {}\n\nif (isMainProcess()) {\n  console.log(1);\n}\n');
      const lenses = await client.codeLenses(uri);
      assert.deepEqual(
        lenses.map((l) => [l.range.start.line, l.command?.title, l.command?.command, l.command?.arguments]),
        [
          [3, 'Debug all processes', Commands.debugAllProcesses, [uri]],
          [3, 'Run as single process', Commands.runSingleProcess, [uri]],
          [3, 'Trace', Commands.traceProgram, [uri]],
        ],
      );
    });
    it('no lens without a guard, or for a guard inside a function', async () => {
      const uri = uriFor();
      await client.open(uri, HEADER + 'export function f() {\n  if (isMainProcess()) {}\n}\nif (process.env.X) {}\n');
      assert.deepEqual(await client.codeLenses(uri), []);
    });
  });

  describe('hover', () => {
    it('shows the runtime doc with the Python twin for an imported name', async () => {
      const uri = uriFor();
      await client.open(uri, HEADER + 'if (isMainProcess()) {\n  await using pool = new Pool(2);\n}\n');
      const hover = await client.hover(uri, 2, 26);
      const value = (hover?.contents as { value: string }).value;
      assert.match(value, /Pool/);
      assert.match(value, /\*Python:\* `multiprocessing\.Pool`/);
      const guard = await client.hover(uri, 1, 6);
      assert.match((guard?.contents as { value: string }).value, /__name__ == "__main__"/);
    });
    it("shows a method's doc on a runtime object (`pool.map`, `q.get`)", async () => {
      const uri = uriFor();
      await client.open(
        uri,
        HEADER +
          'export function sq(x: number) { return x * x; }\nif (isMainProcess()) {\n  await using pool = new Pool(2);\n  await pool.map(sq, [1]);\n  const q = new Queue();\n  await q.get();\n}\n',
      );
      const map = await client.hover(uri, 4, 14);
      assert.match((map?.contents as { value: string }).value, /\*Python:\* `Pool\.map`/);
      const get = await client.hover(uri, 6, 11);
      assert.match((get?.contents as { value: string }).value, /rejects `Empty`/);
      assert.equal(await client.hover(uri, 4, 10), null, 'the receiver itself is a local variable');
    });
    it("shows nothing for names that are not the runtime's", async () => {
      const uri = uriFor();
      await client.open(uri, HEADER + "import { Pool as Other } from 'piscina';\nconst x = new Other();\n");
      assert.equal(await client.hover(uri, 2, 15), null);
      assert.equal(await client.hover(uri, 2, 7), null);
    });
  });
});

/** Every .ts/.js/.mts/.cts file under a folder, found when the test runs (so files added later count). */
function sourcesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return sourcesUnder(path);
    return /\.[cm]?[jt]sx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('a server started without options, as the extension starts it', { timeout: 120_000 }, () => {
  let client: LspClient;
  before(async () => {
    client = (await LspClient.start()).client;
  });
  after(async () => {
    await client?.dispose();
  });

  it('each code links to the line of its heading in the docs/diagnostics.md beside the server', async () => {
    const docs = join(ROOT, 'docs', 'diagnostics.md');
    const lines = readFileSync(docs, 'utf8').split('\n');
    for (const [code, c] of Object.entries(CASES)) {
      const [d] = only(await client.open(uriFor(), HEADER + c.positive), code);
      const href = d?.codeDescription?.href ?? '';
      const match = /^(.*)#L(\d+)$/.exec(href);
      assert.ok(match, `${code}: ${href}`);
      assert.equal(match[1], pathToFileURL(docs).href);
      assert.equal(lines[Number(match[2]) - 1], `## ${code}`);
    }
  });

  it('reports zero diagnostics on every file of examples/ and test/runtime/', async () => {
    const files = [...sourcesUnder(join(ROOT, 'examples')), ...sourcesUnder(join(ROOT, 'test', 'runtime'))];
    assert.ok(files.length > 0, 'expected the runtime tests at least');
    const noisy: string[] = [];
    for (const file of files) {
      const uri = pathToFileURL(file).href;
      const language = /\.[cm]?jsx?$/.test(file) ? 'javascript' : 'typescript';
      const text = readFileSync(file, 'utf8');
      const diagnostics = await client.open(uri, text, language);
      for (const d of diagnostics) {
        const name = relative(ROOT, file);
        noisy.push(`${name}:${d.range.start.line + 1} ${d.code}: ${d.message}`);
      }
      await client.close(uri);
    }
    assert.deepEqual(noisy, []);
  });
});
