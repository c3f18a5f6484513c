// The language server's rules on source strings: each diagnostic with positive and negative cases, and each
// quick fix applied to the text, after which that diagnostic is gone. Pure: no server, no processes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze } from '../../server/src/analysis/analyze';
import type { DiagnosticCode, Edit, Finding } from '../../server/src/analysis/types';

const HEADER = "import { Process, Pool, ProcessPoolExecutor, Manager, Queue, Lock, isMainProcess } from 'forkscope';\n";

function findings(body: string, code?: DiagnosticCode, header = HEADER): Finding[] {
  return analyze(header + body, 'program.ts').findings.filter((f) => code === undefined || f.code === code);
}

function textOf(body: string, f: Finding, header = HEADER): string {
  return (header + body).slice(f.start, f.end);
}

/** Applies a fix's edits (non-overlapping) from the end backwards. */
function applyEdits(text: string, edits: Edit[]): string {
  return [...edits].sort((a, b) => b.start - a.start).reduce((t, e) => t.slice(0, e.start) + e.newText + t.slice(e.end), text);
}

function fixed(body: string, code: DiagnosticCode, header = HEADER): string {
  const [finding] = findings(body, code, header);
  assert.ok(finding, `expected a ${code} finding`);
  const fix = finding.fixes[0];
  assert.ok(fix, `expected a fix for ${code}`);
  return applyEdits(header + body, fix.edits);
}

describe('analysis: only files that import forkscope', () => {
  it('ignores a file that never imports the runtime', () => {
    assert.deepEqual(analyze('const pool = new Pool(4);\npool.map(() => 1, [1]);\n', 'a.ts').findings, []);
    assert.deepEqual(analyze("import { Pool } from 'piscina'; // forkscope\nconst pool = new Pool(4);\n", 'a.ts').findings, []);
  });
  it('reads namespace imports, require() and getContext()', () => {
    assert.equal(
      analyze("import * as mp from 'forkscope';\nconst p = new mp.Pool();\n", 'a.ts').findings.filter((f) => f.code === 'unguarded-start').length,
      1,
    );
    assert.equal(
      analyze("const { Pool: P } = require('forkscope');\nconst p = new P();\n", 'a.js').findings.filter((f) => f.code === 'unguarded-start').length,
      1,
    );
    assert.equal(
      analyze(
        "import { getContext } from 'forkscope';\nconst ctx = getContext('thread');\nconst p = new ctx.Process({ target: f });\n",
        'a.ts',
      ).findings.filter((f) => f.code === 'unguarded-start').length,
      1,
    );
  });
});

describe('unguarded-start', () => {
  it('flags a Pool, Process, executor and Manager created at top level', () => {
    const body =
      'const a = new Pool();\nconst b = new Process({ target: work });\nconst c = new ProcessPoolExecutor();\nawait using d = await Manager();\nexport function work() {}\n';
    assert.deepEqual(
      findings(body, 'unguarded-start').map((f) => textOf(body, f)),
      ['new Pool()', 'new Process({ target: work })', 'new ProcessPoolExecutor()', 'Manager()'],
    );
  });
  it('flags a top-level call of a function that starts processes', () => {
    const body = 'async function main() { await using pool = new Pool(); }\nvoid main();\n';
    assert.deepEqual(
      findings(body, 'unguarded-start').map((f) => textOf(body, f)),
      ['main()'],
    );
  });
  it('accepts the guard, a negated early exit, and creation inside functions', () => {
    assert.deepEqual(findings('if (isMainProcess()) {\n  await using pool = new Pool();\n}\n', 'unguarded-start'), []);
    assert.deepEqual(findings('async function main() { await using pool = new Pool(); }\nif (isMainProcess()) await main();\n', 'unguarded-start'), []);
    assert.deepEqual(
      findings('if (!isMainProcess()) process.exit(0);\nconst q = new Queue();\nif (isMainProcess()) void 0; else new Pool();\n', 'unguarded-start'),
      [],
    );
    assert.deepEqual(findings('export function make() { return new Pool(); }\nconst q = new Queue();\n', 'unguarded-start'), []);
  });
  it("accepts Node's main-module tests and Python's idioms as guards", () => {
    const header = "import { Pool, currentProcess, parentProcess } from 'forkscope';\nimport { fileURLToPath } from 'node:url';\n";
    for (const test of [
      'require.main === module',
      'import.meta.main',
      'process.argv[1] === fileURLToPath(import.meta.url)',
      "currentProcess().name === 'MainProcess'",
      'parentProcess() === null',
    ]) {
      assert.deepEqual(findings(`if (${test}) {\n  await using pool = new Pool();\n}\n`, 'unguarded-start', header), [], test);
      assert.equal(analyze(`${header}if (${test}) {\n}\n`, 'a.ts').mainBlocks.length, 1, test);
    }
    assert.equal(findings("if (currentProcess().name === 'Worker') {\n  await using pool = new Pool();\n}\n", 'unguarded-start', header).length, 1);
    assert.equal(findings('if (parentProcess() !== null) {\n  await using pool = new Pool();\n}\n', 'unguarded-start', header).length, 1);
  });
  it('fix wraps the statements in the guard', () => {
    const out = fixed('const pool = new Pool();\nconsole.log(await pool.map(work, [1]));\nawait pool.close();\n', 'unguarded-start');
    assert.match(
      out,
      /\nif \(isMainProcess\(\)\) \{\n {2}const pool = new Pool\(\);\n {2}console\.log\(await pool\.map\(work, \[1\]\)\);\n {2}await pool\.close\(\);\n\}\n$/,
    );
    assert.deepEqual(
      analyze(out, 'program.ts').findings.filter((f) => f.code === 'unguarded-start'),
      [],
    );
  });
  it('fix imports isMainProcess when the file does not', () => {
    const header = "import { Pool } from 'forkscope';\n";
    const out = fixed('const pool = new Pool();\n', 'unguarded-start', header);
    assert.ok(out.startsWith("import { Pool, isMainProcess } from 'forkscope';\n"), out);
    assert.deepEqual(
      analyze(out, 'program.ts').findings.filter((f) => f.code === 'unguarded-start'),
      [],
    );
  });
});

describe('unfindable-target', () => {
  const guarded = (inner: string) => `if (isMainProcess()) {\n${inner}\n}\n`;
  it('flags inline, nested, non-exported, bound and method targets', () => {
    const body =
      'function hidden(x: number) { return x; }\nclass Box { run() {} }\nconst box = new Box();\n' +
      guarded(
        [
          'await using pool = new Pool();',
          'await pool.map((x: number) => x * 2, [1]);',
          'const inner = (x: number) => x;',
          'await pool.map(inner, [1]);',
          'await pool.map(hidden, [1]);',
          'await pool.map(hidden.bind(null), [1]);',
          'new Process({ target: box.run });',
        ].join('\n'),
      );
    assert.deepEqual(
      findings(body, 'unfindable-target').map((f) => textOf(body, f)),
      ['(x: number) => x * 2', 'inner', 'hidden', 'hidden.bind(null)', 'box.run'],
    );
  });
  it('accepts exported functions, imported ones and module namespaces', () => {
    const header = HEADER + "import { fromElsewhere } from './workers';\nimport * as workers from './workers';\n";
    const body =
      'export function square(x: number) { return x * x; }\nfunction late(x: number) { return x; }\nexport { late };\n' +
      guarded(
        'await using pool = new Pool();\nawait pool.map(square, [1]);\nawait pool.map(late, [1]);\nawait pool.map(fromElsewhere, [1]);\nawait pool.map(workers.cube, [1]);\nawait using ex = new ProcessPoolExecutor();\nawait ex.submit(square, 2);',
      );
    assert.deepEqual(findings(body, 'unfindable-target', header), []);
  });
  it('fix moves an inline function that closes over nothing to an exported top-level function', () => {
    const out = fixed(guarded('await using pool = new Pool();\nawait pool.map((x: number) => x * 2, [1]);'), 'unfindable-target');
    assert.ok(out.includes('\nexport const task = (x: number) => x * 2;\n\nif (isMainProcess()) {'), out);
    assert.ok(out.includes('await pool.map(task, [1]);'), out);
    assert.deepEqual(
      analyze(out, 'program.ts').findings.filter((f) => f.code === 'unfindable-target'),
      [],
    );
  });
  it('fix moves a nested function to the top level and exports it', () => {
    const body =
      'async function main() {\n  function double(x: number) {\n    return x * 2;\n  }\n  await using pool = new Pool();\n  await pool.map(double, [1]);\n}\nif (isMainProcess()) await main();\n';
    const out = fixed(body, 'unfindable-target');
    assert.ok(out.includes('\nexport function double(x: number) {\n  return x * 2;\n}\n\nasync function main() {\n  await using pool'), out);
    assert.deepEqual(
      analyze(out, 'program.ts').findings.filter((f) => f.code === 'unfindable-target'),
      [],
    );
  });
  it('offers no move for a function that closes over a local', () => {
    const body =
      'async function main() {\n  const k = 3;\n  await using pool = new Pool();\n  await pool.map((x: number) => x * k, [1]);\n}\nif (isMainProcess()) await main();\n';
    const [f] = findings(body, 'unfindable-target');
    assert.deepEqual(f?.fixes, []);
  });
  it('fix exports the function', () => {
    const out = fixed('async function work() {}\n' + guarded('const p = new Process({ target: work });\np.start();\nawait p.join();'), 'unfindable-target');
    assert.match(out, /\nexport async function work\(\) \{\}\n/);
    assert.deepEqual(
      analyze(out, 'program.ts').findings.filter((f) => f.code === 'unfindable-target'),
      [],
    );
  });
});

describe('unserialisable-argument', () => {
  it('flags functions, sockets, DOM objects and instances of own classes', () => {
    const header = HEADER + "import * as net from 'node:net';\n";
    const body =
      'export function work(..._: unknown[]) {}\nclass Point { constructor(public x: number) {} norm() { return this.x; } }\nfunction cb() {}\n' +
      'if (isMainProcess()) {\n  new Process({ target: work, args: [() => 1, cb, net.connect(80), document.body, new Point(1)] });\n}\n';
    assert.deepEqual(
      findings(body, 'unserialisable-argument', header).map((f) => [textOf(body, f, header), f.severity]),
      [
        ['() => 1', 'error'],
        ['cb', 'error'],
        ['net.connect(80)', 'error'],
        ['document.body', 'error'],
        ['new Point(1)', 'warning'],
      ],
    );
  });
  it('flags an object made for the inline context given to a real process, and accepts one from the same context', () => {
    const header = "import { getContext, isMainProcess } from 'forkscope';\n";
    const body =
      "export function work(..._: unknown[]) {}\nif (isMainProcess()) {\n  const inline = getContext('inline');\n  const spawn = getContext('spawn');\n" +
      '  const q = new inline.Queue();\n  new spawn.Process({ target: work, args: [q] });\n  new inline.Process({ target: work, args: [q] });\n  const q2 = new spawn.Queue();\n  new spawn.Process({ target: work, args: [q2] });\n}\n';
    assert.deepEqual(
      findings(body, 'unserialisable-argument', header).map((f) => [textOf(body, f, header), f.message.includes('"inline" context')]),
      [['q', true]],
    );
  });
  it('accepts data, runtime objects and classes without methods', () => {
    const body =
      'export function work(..._: unknown[]) {}\nclass Plain { x = 1; }\n' +
      "if (isMainProcess()) {\n  const q = new Queue();\n  const l = new Lock();\n  new Process({ target: work, args: [1, 'a', { n: 2 }, [3], q, l, new Map(), new Date(), new Plain()] });\n}\n";
    assert.deepEqual(findings(body, 'unserialisable-argument'), []);
  });
});

describe('unshared-state', () => {
  it('flags module-level writes in a target and field writes in run()', () => {
    const body =
      'let counter = 0;\nconst seen: number[] = [];\nexport function work(x: number) { counter += 1; seen.push(x); }\n' +
      'export class Calc extends Process { result = 0; async run() { this.result = 42; } }\n' +
      'if (isMainProcess()) {\n  new Process({ target: work, args: [1] });\n}\n';
    assert.deepEqual(
      findings(body, 'unshared-state').map((f) => textOf(body, f)),
      ['counter += 1', 'seen.push(x)', 'this.result = 42'],
    );
  });
  it('accepts locals, shared memory, state the target also reads (its own copy, on purpose) and functions that are not targets', () => {
    const header = "import { Process, Value, isMainProcess } from 'forkscope';\n";
    const body =
      "let counter = 0;\nconst total = new Value('i', 0);\nconst cache = new Map<number, number>();\nconst pids: number[] = [];\n" +
      'export function work(x: number) { let local = 0; local += x; total.value += x; }\nexport function notATarget() { counter += 1; }\n' +
      'export function memo(x: number) { if (!cache.has(x)) cache.set(x, x * x); return cache.get(x); }\n' +
      'export function demo() { pids.push(process.pid); console.log(pids); }\n' +
      'if (isMainProcess()) {\n  new Process({ target: work, args: [1] });\n  new Process({ target: memo, args: [1] });\n  new Process({ target: demo });\n  counter += 1;\n}\n';
    assert.deepEqual(findings(body, 'unshared-state', header), []);
  });
});

describe('unreleased-lock', () => {
  it('flags a release that a throw would skip, and a lock never released', () => {
    const body =
      'export async function a(lock: Lock) {\n  await lock.acquire();\n  work();\n  lock.release();\n}\nexport async function b(lock: Lock) {\n  await lock.acquire();\n  work();\n}\nfunction work() {}\n';
    assert.deepEqual(
      findings(body, 'unreleased-lock').map((f) => textOf(body, f)),
      ['await lock.acquire();', 'await lock.acquire();'],
    );
  });
  it('accepts try/finally, an immediate release and a checked acquire', () => {
    const body =
      'export async function a(lock: Lock) {\n  await lock.acquire();\n  try {\n    work();\n  } finally {\n    lock.release();\n  }\n}\n' +
      'export async function b(lock: Lock) {\n  await lock.acquire();\n  lock.release();\n}\n' +
      'export async function d(lock: Lock, v: { value: number }) {\n  await lock.acquire();\n  v.value += 1;\n  lock.release();\n}\n' +
      'export async function e(lock: Lock) {\n  await lock.acquire();\n  using _held = lock;\n  work();\n}\n' +
      'export async function c(lock: Lock) {\n  if (await lock.acquire({ timeout: 10 })) lock.release();\n}\nfunction work() {}\n';
    assert.deepEqual(findings(body, 'unreleased-lock'), []);
  });
  it('fix moves the release into a finally block', () => {
    const out = fixed(
      'export async function a(lock: Lock) {\n  await lock.acquire();\n  work();\n  lock.release();\n}\nfunction work() {}\n',
      'unreleased-lock',
    );
    assert.ok(out.includes('  await lock.acquire();\n  try {\n    work();\n  } finally {\n    lock.release();\n  }\n}'), out);
    assert.deepEqual(
      analyze(out, 'program.ts').findings.filter((f) => f.code === 'unreleased-lock'),
      [],
    );
  });
  it('fix for a lock never released adds `using`', () => {
    const out = fixed('export async function b(lock: Lock) {\n  await lock.acquire();\n  work();\n}\nfunction work() {}\n', 'unreleased-lock');
    assert.ok(out.includes('  await lock.acquire();\n  using _lockHeld = lock;\n  work();'), out);
  });
});

describe('unclosed-pool', () => {
  it('flags a Pool, executor and Manager never closed', () => {
    const body =
      'export async function main() {\n  const pool = new Pool();\n  const ex = new ProcessPoolExecutor();\n  const m = await Manager();\n  await pool.map(sq, [1]);\n}\nexport function sq() {}\n';
    assert.deepEqual(
      findings(body, 'unclosed-pool').map((f) => textOf(body, f)),
      ['pool', 'ex', 'm'],
    );
  });
  it('accepts await using, close(), shutdown() and a pool handed on', () => {
    const body =
      'export async function main() {\n  await using a = new Pool();\n  const b = new Pool();\n  b.close();\n  const c = new ProcessPoolExecutor();\n  await c.shutdown();\n  const d = new Pool();\n  return d;\n}\n';
    assert.deepEqual(findings(body, 'unclosed-pool'), []);
  });
  it('fix declares it with await using', () => {
    const out = fixed('export async function main() {\n  const pool = new Pool();\n}\n', 'unclosed-pool');
    assert.ok(out.includes('  await using pool = new Pool();'), out);
    assert.deepEqual(
      analyze(out, 'program.ts').findings.filter((f) => f.code === 'unclosed-pool'),
      [],
    );
  });
});

describe('join-before-drain and get-after-producers-ended', () => {
  const program = (inner: string) =>
    `export async function producer(q: Queue) { await q.put(1); }\nif (isMainProcess()) {\n  const q = new Queue();\n  const p = new Process({ target: producer, args: [q] });\n  p.start();\n${inner}\n}\n`;
  it('flags join() before get() of the queue the child fills, and the get() without timeout', () => {
    const body = program('  await p.join();\n  console.log(await q.get());');
    assert.deepEqual(
      findings(body, 'join-before-drain').map((f) => textOf(body, f)),
      ['p.join()'],
    );
    assert.deepEqual(
      findings(body, 'get-after-producers-ended').map((f) => textOf(body, f)),
      ['q.get()'],
    );
  });
  it('follows processes joined through a loop over the array that holds them', () => {
    const body = `export async function producer(q: Queue) { await q.put(1); }\nif (isMainProcess()) {\n  const q = new Queue();\n  const procs = [];\n  for (let i = 0; i < 2; i++) procs.push(new Process({ target: producer, args: [q] }));\n  for (const p of procs) p.start();\n  for (const p of procs) await p.join();\n  await q.get();\n}\n`;
    assert.equal(findings(body, 'join-before-drain').length, 1);
  });
  it('follows a process pushed into an array and joined through it', () => {
    const body = `export async function producer(q: Queue) { await q.put(1); }\nif (isMainProcess()) {\n  const q = new Queue();\n  const procs: Process[] = [];\n  const p = new Process({ target: producer, args: [q] });\n  procs.push(p);\n  p.start();\n  for (const x of procs) await x.join();\n  await q.get();\n}\n`;
    assert.equal(findings(body, 'join-before-drain').length, 1);
  });
  it('ignores the join of a process that was not given the queue', () => {
    const body = `export async function producer(q: Queue) { await q.put(1); }\nexport function other() {}\nif (isMainProcess()) {\n  const q = new Queue();\n  const o = new Process({ target: other });\n  o.start();\n  await o.join();\n  const p = new Process({ target: producer, args: [q] });\n  p.start();\n  await q.get();\n  await p.join();\n}\n`;
    assert.deepEqual(
      findings(body).filter((f) => f.code === 'join-before-drain' || f.code === 'get-after-producers-ended'),
      [],
    );
  });
  it('accepts get() before join(), a timeout, and an empty() check', () => {
    assert.deepEqual(
      findings(program('  console.log(await q.get());\n  await p.join();')).filter(
        (f) => f.code === 'join-before-drain' || f.code === 'get-after-producers-ended',
      ),
      [],
    );
    assert.deepEqual(findings(program('  await p.join();\n  await q.get({ timeout: 100 });'), 'get-after-producers-ended'), []);
    assert.deepEqual(findings(program('  await p.join();\n  while (!q.empty()) await q.get();'), 'get-after-producers-ended'), []);
  });
  it('fix adds a timeout', () => {
    const out = fixed(program('  await p.join();\n  console.log(await q.get());'), 'get-after-producers-ended');
    assert.ok(out.includes('await q.get({ timeout: 1000 })'), out);
  });
});

describe('tiny-chunks', () => {
  const header = HEADER + "import { heavy } from './work';\n";
  const guarded = (inner: string) =>
    `export function sq(x: number) { return x * x; }\nconst data: number[] = load();\nif (isMainProcess()) {\n  await using pool = new Pool();\n${inner}\n}\n`;
  it('hints at chunksize 1 for tiny work or many items', () => {
    const body = guarded(
      '  await pool.map(sq, data, { chunksize: 1 });\n  for await (const y of pool.imap(heavy, Array.from({ length: 10_000 }), { chunksize: 1, x: 2 })) void y;',
    );
    assert.deepEqual(
      findings(body, 'tiny-chunks', header).map((f) => [textOf(body, f, header), f.severity]),
      [
        ['chunksize: 1', 'hint'],
        ['chunksize: 1', 'hint'],
      ],
    );
  });
  it('stays quiet for the default, larger chunks, few items, or work it cannot see', () => {
    const body = guarded(
      '  await pool.map(sq, data);\n  await pool.map(sq, data, { chunksize: 64 });\n  await pool.map(sq, [1, 2, 3], { chunksize: 1 });\n  await pool.map(heavy, data, { chunksize: 1 });',
    );
    assert.deepEqual(findings(body, 'tiny-chunks', header), []);
  });
  it('fix removes the option', () => {
    assert.ok(fixed(guarded('  await pool.map(sq, data, { chunksize: 1 });'), 'tiny-chunks').includes('await pool.map(sq, data);'));
    assert.ok(fixed(guarded('  await pool.map(sq, data, { chunksize: 1, timeout: 5 });'), 'tiny-chunks').includes('await pool.map(sq, data, { timeout: 5 });'));
  });
});

describe('suppression and main blocks', () => {
  it('forkscope-disable-next-line silences the next line only', () => {
    const body = '// forkscope-disable-next-line unguarded-start\nconst a = new Pool();\nconst b = new Pool();\n';
    assert.deepEqual(
      findings(body, 'unguarded-start').map((f) => textOf(body, f)),
      ['new Pool()'],
    );
    assert.equal(findings(body, 'unguarded-start')[0]!.start, (HEADER + body).lastIndexOf('new Pool()'));
  });
  it('reports each top-level isMainProcess() block for code lenses', () => {
    const text = HEADER + 'function f() { if (isMainProcess()) {} }\nif (isMainProcess()) {\n}\n';
    assert.deepEqual(
      analyze(text, 'a.ts').mainBlocks.map((b) => text.slice(b.start, b.end)),
      ['if (isMainProcess()) {\n}'],
    );
  });
});
