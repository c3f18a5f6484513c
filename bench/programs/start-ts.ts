// Measured by bench/start.bench.ts: start() → first line of run() for a TypeScript program (children
// inherit the parent's loader). argv: count; prints {"ms": [..]}.
import { Process, isMainProcess } from 'forkscope';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export function mark(file: string): void {
  writeFileSync(file, String(performance.timeOrigin + performance.now()));
}

async function main(): Promise<void> {
  const count = Number(process.argv[2]);
  const dir = mkdtempSync(join(tmpdir(), 'forkscope-start-ts-'));
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const file = join(dir, `t${i}`);
    const p = new Process({ target: mark, args: [file] });
    const t0 = performance.timeOrigin + performance.now();
    p.start();
    await p.join();
    ms.push(Number(readFileSync(file, 'utf8')) - t0);
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ ms }));
}

if (isMainProcess()) void main();
