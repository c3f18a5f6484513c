// A program for test_interpreter_shutdown and test_hang_gh83386: it submits sleep_and_print(1 s, "apple") and
// ends without awaiting it (`submit`), or after shutdown({ wait: false }) (`no-wait`). The task must still print.
import { getContext, isMainProcess } from 'forkscope';
import type { StartMethod } from '../../runtime/src/protocol';

/** CPython's sleep_and_print(t, msg). */
export async function sleepAndPrint(ms: number, msg: string): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  process.stdout.write(`${msg}\n`);
}

if (isMainProcess()) {
  const [method, mode] = process.argv.slice(2) as [StartMethod, string];
  const executor = new (getContext(method).ProcessPoolExecutor)({ maxWorkers: mode === 'no-wait' ? 3 : 5 });
  executor.submit(sleepAndPrint, 1000, 'apple');
  if (mode === 'no-wait') void executor.shutdown({ wait: false });
}
