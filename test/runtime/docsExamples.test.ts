// Every whole-program ```ts block of README.md and docs/*.md runs as written, under `forkscope run`, in a CommonJS
// package and in an ES module package (issue 18). A block whose line above is `<!-- fragment -->` (a piece of a
// program, or two side by side) is skipped. A program that needs ES modules gets one line saying what to change.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runProgram } from './runProgram';
import { probeNodeTypeScript } from '../../runtime/src/protocol';

interface Block {
  /** `README.md:52`: the file and the line of its opening fence. */
  where: string;
  code: string;
}

/** The ```ts blocks of a Markdown file, minus those marked as fragments. */
export function programBlocks(file: string): Block[] {
  const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    let above = start - 1;
    while (above >= 0 && lines[above]!.trim() === '') above--;
    if (above >= 0 && /^<!--\s*fragment\b/.test(lines[above]!.trim())) continue;
    blocks.push({ where: `${file}:${start + 1}`, code: `${body.join('\n')}\n` });
  }
  return blocks;
}

const DOCS = [
  'README.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const CLI = join(REPO_ROOT, 'runtime', 'bin', 'forkscope.js');
const roots: string[] = [];

/** A fresh project outside the repository with `forkscope` installed (linked) and `main.ts` in it. */
/** A project whose package.json names its type, except a 'commonjs' one without `sayType`: CommonJS by default. */
function project(kind: 'commonjs' | 'module', code: string, sayType = kind === 'module'): string {
  const dir = mkdtempSync(join(tmpdir(), `forkscope-docs-${kind}-`));
  roots.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'docs-example', private: true, ...(sayType ? { type: kind } : {}) }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(join(REPO_ROOT, 'runtime'), join(dir, 'node_modules', 'forkscope'), 'dir');
  writeFileSync(join(dir, 'main.ts'), code);
  return dir;
}

const runIn = (dir: string) => runProgram(join(dir, 'main.ts'), { cwd: dir, nodeArgs: [CLI, 'run', 'main.ts'], deadlineMs: 120_000 });

describe('docs examples', { timeout: 600_000 }, () => {
  after(() => {
    for (const dir of roots) rmSync(dir, { recursive: true, force: true });
  });
  const blocks = DOCS.flatMap(programBlocks);

  it('finds the whole programs of the README', () => {
    assert.ok(
      blocks.some((b) => b.where.startsWith('README.md')),
      `blocks: ${blocks.map((b) => b.where).join(', ')}`,
    );
  });

  for (const block of blocks) {
    for (const kind of ['commonjs', 'module'] as const) {
      it(`${block.where} runs in ${kind === 'module' ? 'an ES module' : 'a CommonJS'} package`, async () => {
        const { code, stdout, stderr } = await runIn(project(kind, block.code));
        assert.equal(code, 0, `exit ${code}\nstdout: ${stdout}\nstderr: ${stderr}`);
      });
    }
  }

  const topLevelAwait = [
    "import { Pool, isMainProcess } from 'forkscope';",
    'export function square(x: number): number {',
    '  return x * x;',
    '}',
    'if (isMainProcess()) {',
    '  await using pool = new Pool(2);',
    '  console.log((await pool.map(square, [1, 2, 3])).join(" "));',
    '}',
    '',
  ].join('\n');

  /** The lines that tell the user to set "type": "module" (the runtime's loader's error, or the preload's hint). */
  const hintsIn = (stderr: string) =>
    stderr.split('\n').filter((l) => (l.startsWith('forkscope: ') || /Top-level await/.test(l)) && l.includes('"type": "module"'));

  it('top-level await in a package that says "type": "commonjs": one line says what to change', async () => {
    const { code, stderr } = await runIn(project('commonjs', topLevelAwait, true));
    assert.notEqual(code, 0);
    // Said once, on one line, whoever stopped at it: the runtime's loader (top-level await cannot be CommonJS), or
    // Node's own type stripping (import statements in a CommonJS package), with the preload's hint.
    assert.equal(hintsIn(stderr).length, 1, stderr);
  });

  it('top-level await in a package without "type": runs where Node strips types (it detects module syntax), else one line says what to change', async () => {
    const { code, stdout, stderr } = await runIn(project('commonjs', topLevelAwait));
    if (probeNodeTypeScript().stripsTypes) {
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^1 4 9$/m);
    } else {
      assert.notEqual(code, 0);
      assert.equal(hintsIn(stderr).length, 1, stderr);
    }
  });

  it('top-level await in an ES module package runs', async () => {
    const { code, stdout, stderr } = await runIn(project('module', topLevelAwait));
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^1 4 9$/m);
  });
});
