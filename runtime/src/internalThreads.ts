// The runtime's own helper threads (the debugger watchdog, the synchronous hello) are not the program's:
// their eval'd source opens with this mark, and the preload leaves such threads out of the process tree.

export const INTERNAL_THREAD_MARK = '/* forkscope:internal-thread */';

/** True for `new Worker(source, …)` arguments whose source is one of the runtime's helper threads. */
export function isInternalThread(workerArgs: readonly unknown[]): boolean {
  return typeof workerArgs[0] === 'string' && workerArgs[0].startsWith(INTERNAL_THREAD_MARK);
}
