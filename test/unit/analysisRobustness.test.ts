// The rules never throw, whatever the text: every source file of the repository (with a `forkscope` import
// added so every rule runs), and prefixes of them cut mid-token, as a file looks while it is being typed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../../server/src/analysis/analyze';

const ROOT = join(__dirname, '..', '..');
const HEADER = "import { Process, Pool, ProcessPoolExecutor, Manager, Queue, Lock, Value, Pipe, isMainProcess, getContext } from 'forkscope';\n";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.') || name === 'dist') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.[cm]?[jt]s$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('analysis robustness', () => {
  const files = ['runtime/src', 'src', 'server/src', 'test', 'examples', 'bench'].flatMap((d) => sources(join(ROOT, d)));

  it('analyses every source file of the repository without throwing', () => {
    assert.ok(files.length > 20);
    const failures: string[] = [];
    for (const file of files) {
      try {
        analyze(HEADER + readFileSync(file, 'utf8'), file);
      } catch (error) {
        failures.push(`${relative(ROOT, file)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('analyses half-typed text (files cut at many points) without throwing', () => {
    const failures: string[] = [];
    for (const file of files.filter((_, i) => i % 5 === 0)) {
      const text = HEADER + readFileSync(file, 'utf8');
      for (let k = 1; k <= 6; k++) {
        const cut = Math.floor((text.length * k) / 7);
        try {
          analyze(text.slice(0, cut), file);
        } catch (error) {
          failures.push(`${relative(ROOT, file)} cut at ${cut}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });
});
