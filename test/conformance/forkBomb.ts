// CPython's mp_fork_bomb.py for TestNoForkBomb: a Process started at module level, without the isMainProcess()
// guard. The child re-imports this module while bootstrapping, so its own start() must fail with RuntimeError.
import { Process, setStartMethod } from 'forkscope';
import type { StartMethod } from '../../runtime/src/protocol';

/** The target: prints 123. */
export function foo(): void {
  console.log('123');
}

if (process.argv[2]) setStartMethod(process.argv[2] as StartMethod);
const p = new Process({ target: foo });
p.start();
void p.join();
