// The TypeScript program of bench/start.bench.ts (see startHarness.cjs), run on the runtime's loader
// (or Node's own type stripping): an enum and parameter properties so it needs more than stripping.
import { isMainProcess } from 'forkscope';
import { measure } from './startHarness.cjs';

enum Mode {
  Measure = 'measure',
}

class Runner {
  constructor(private readonly argv: string[]) {}
  run(mode: Mode): Promise<void> {
    return mode === Mode.Measure ? measure(this.argv) : Promise.resolve();
  }
}

if (isMainProcess()) void new Runner(process.argv.slice(2)).run(Mode.Measure);
