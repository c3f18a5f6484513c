// A program for test_worker_finalization_via_atexit_handler_of_multiprocessing: a Pool held by an object is
// used once and never closed; the program must still exit with code 0.
import { getContext, isMainProcess } from 'forkscope';
import type { StartMethod } from '../../runtime/src/protocol';

/** Python's float(x). */
export function toFloat(x: number): number {
  return x + 0.5 - 0.5;
}

class A {
  readonly pool = new (getContext(process.argv[2] as StartMethod).Pool)({ processes: 1 });
}

if (isMainProcess()) {
  const problem = new A();
  void problem.pool.map(
    toFloat,
    Array.from({ length: 10 }, (_, i) => i),
  );
}
