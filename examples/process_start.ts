// Seed 001: the guarded entry point. setStartMethod('spawn') once, then Process(target=foo).start().
// Without the isMainProcess() guard, the child re-importing this module would start a process itself
// and get Python's "bootstrapping phase" RuntimeError instead of a fork bomb.
import { Process, isMainProcess, setStartMethod } from 'forkscope';

export function foo(): void {
  console.log('hello');
}

if (isMainProcess()) {
  setStartMethod('spawn');
  const p = new Process({ target: foo });
  p.start();
}
