// Language server speed on a 2,000-line program: analysis after the first (goal < 100 ms), beside the floor
// measured in the same run (TypeScript's own parse of the same text), and the full LSP round trip
// (didChange → publishDiagnostics) through the built server.
import { performance } from 'node:perf_hooks';
import ts from 'typescript';
import { analyze } from '../server/src/analysis/analyze';
import { LspClient } from '../test/adapter/lspClient';

/** A realistic program: workers, a pool, a queue, locks, one deliberate mistake per block. */
function program(lines: number): string {
  const out = ["import { Process, Pool, Queue, Lock, Value, isMainProcess } from 'forkscope';", "const shared = new Value('i', 0);", 'let local = 0;'];
  for (let i = 0; out.length < lines - 12; i++) {
    out.push(
      `export async function work${i}(x: number, lock: Lock, q: Queue): Promise<number> {`,
      '  await lock.acquire();',
      '  try {',
      `    shared.value += x * ${i};`,
      '  } finally {',
      '    lock.release();',
      '  }',
      `  await q.put({ id: ${i}, square: x * x });`,
      i % 10 === 0 ? '  local += 1;' : '  const y = x + 1;',
      '  return x * x;',
      '}',
      '',
    );
  }
  out.push(
    'if (isMainProcess()) {',
    '  const q = new Queue();',
    '  const lock = new Lock();',
    '  await using pool = new Pool({ processes: 2 });',
    '  console.log(await pool.map(work0, [1, 2, 3], { chunksize: 1 }));',
    '  const p = new Process({ target: work1, args: [1, lock, q] });',
    '  p.start();',
    '  console.log(await q.get());',
    '  await p.join();',
    '}',
  );
  return out.join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void, runs: number): number {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

export default async function lspBench(): Promise<void> {
  const text = program(2000);
  const lineCount = text.split('\n').length - 1;
  let t = performance.now();
  const first = analyze(text, 'big.ts');
  const cold = performance.now() - t;
  // Warm the JIT as a server is warm after a few keystrokes, then alternate analysis and the bare parse so
  // both see the same load on this shared machine. Each run edits the text so nothing could be reused.
  let n = 0;
  const edited = () => text.replace('let local = 0;', `let local = ${n++};`);
  for (let i = 0; i < 5; i++) analyze(edited(), 'big.ts');
  const analysisRuns: number[] = [];
  const parseRuns: number[] = [];
  for (let i = 0; i < 20; i++) {
    analysisRuns.push(time(() => analyze(edited(), 'big.ts'), 1));
    parseRuns.push(time(() => ts.createSourceFile('big.ts', edited(), ts.ScriptTarget.Latest, true), 1));
  }
  const warm = median(analysisRuns);
  const parse = median(parseRuns);
  console.log(`program: ${lineCount} lines, ${first.findings.length} findings`);
  console.log(`analysis, first run:          ${cold.toFixed(1)} ms`);
  console.log(`analysis after the first:     ${warm.toFixed(1)} ms (median of 20 after 5 warm-up runs; goal < 100 ms)`);
  console.log(`peer: TypeScript parse only:  ${parse.toFixed(1)} ms → analysis costs ${(warm / parse).toFixed(2)}× a bare parse`);

  const { client } = await LspClient.start();
  try {
    const uri = 'file:///tmp/forkscope-bench/big.ts';
    t = performance.now();
    await client.open(uri, text);
    const openMs = performance.now() - t;
    const rounds: number[] = [];
    for (let i = 0; i < 25; i++) {
      t = performance.now();
      await client.edit(uri, [{ range: { start: { line: 2, character: 12 }, end: { line: 2, character: 13 } }, newText: String(i % 10) }]);
      if (i >= 5) rounds.push(performance.now() - t);
    }
    console.log(`LSP didOpen → diagnostics:    ${openMs.toFixed(1)} ms (server's first analysis)`);
    console.log(`LSP didChange → diagnostics:  ${median(rounds).toFixed(1)} ms (median of 20 edits after 5, stdio round trip)`);
  } finally {
    await client.dispose();
  }
}
