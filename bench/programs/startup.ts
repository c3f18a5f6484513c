// The TypeScript program of bench/start.bench.ts (see startHarness.cjs), run on the runtime's loader
// (or Node's own type stripping): an enum and parameter properties so it needs more than stripping.
import { isMainProcess, type Value } from 'forkscope';
import { writeFileSync } from 'node:fs';
import { measure } from './startHarness.cjs';

enum Unit {
  Increment = 1,
}

/** The target whose first line is timed: writes the time it ran. */
export function mark(file: string): void {
  writeFileSync(file, String(performance.timeOrigin + performance.now()));
}

/** The locked counter's child: `n` increments under the Value's own lock. */
export async function count(v: Value<'i'>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await v.getLock().acquire();
    v.value += Unit.Increment;
    v.getLock().release();
  }
}

class Runner {
  constructor(private readonly argv: string[]) {}
  run(): Promise<void> {
    return measure(this.argv, { mark, count });
  }
}

if (isMainProcess()) void new Runner(process.argv.slice(2)).run();
