// The runtime's public names as hovers show them: one sentence and the Python twin. Kept in step with the
// runtime's TSDoc by test/unit/analysisHover.test.ts. Never imports `vscode` or the runtime.

export interface HoverDoc {
  /** How it is called. */
  signature: string;
  summary: string;
  /** The Python name it mirrors. */
  python: string;
}

export const HOVER_DOCS: Record<string, HoverDoc> = {
  Process: {
    signature: 'new Process({ target, args, kwargs, name, daemon })',
    summary:
      'A process that runs `target(...args)` (or its own `run()`) in a child: `start()`, `await join({ timeout })`, `isAlive()`, `terminate()`, `kill()`, `exitCode`.',
    python: 'multiprocessing.Process',
  },
  Pool: {
    signature: 'new Pool({ processes, initializer, initargs, maxTasksPerChild, context })',
    summary: 'A pool of worker processes: `await map(fn, xs)`, `imap`, `imapUnordered`, `starmap`, `apply`, `applyAsync`; close it with `await using`.',
    python: 'multiprocessing.Pool',
  },
  ProcessPoolExecutor: {
    signature: 'new ProcessPoolExecutor({ maxWorkers, initializer, initargs, maxTasksPerChild, context })',
    summary:
      'Runs calls in worker processes: `submit(fn, ...args)` returns a Future, `map(fn, ...iterables)`, `shutdown({ wait, cancelFutures })`; close it with `await using`.',
    python: 'concurrent.futures.ProcessPoolExecutor',
  },
  Queue: {
    signature: 'new Queue({ maxsize })',
    summary:
      'A FIFO queue shared between processes and threads: `await put(obj, { block, timeout })`, `await get({ block, timeout })` (rejects `Empty`), `qsize()`, `empty()`, `close()`.',
    python: 'multiprocessing.Queue',
  },
  SimpleQueue: {
    signature: 'new SimpleQueue()',
    summary: 'An unbounded queue between processes with only `put`, `get`, `empty` and `close`.',
    python: 'multiprocessing.SimpleQueue',
  },
  JoinableQueue: {
    signature: 'new JoinableQueue({ maxsize })',
    summary: 'A Queue whose consumers call `taskDone()` so that `await join()` resolves when every item has been processed.',
    python: 'multiprocessing.JoinableQueue',
  },
  Pipe: {
    signature: 'Pipe({ duplex }) → [Connection, Connection]',
    summary: 'The two ends of a pipe between two processes: `send`, `await recv()`, `sendBytes`, `recvBytes`, `await poll({ timeout })`, `close`.',
    python: 'multiprocessing.Pipe',
  },
  Lock: {
    signature: 'new Lock()',
    summary:
      'A lock across processes: `await acquire({ block, timeout })` resolves `true` when held; `release()`; `using` releases it at the end of the block.',
    python: 'multiprocessing.Lock',
  },
  RLock: {
    signature: 'new RLock()',
    summary: 'A re-entrant lock across processes: its holder may acquire it again; it is free after as many `release()` calls.',
    python: 'multiprocessing.RLock',
  },
  Semaphore: {
    signature: 'new Semaphore(value = 1)',
    summary: 'A counter across processes: `await acquire()` takes one, `release()` gives one back.',
    python: 'multiprocessing.Semaphore',
  },
  BoundedSemaphore: {
    signature: 'new BoundedSemaphore(value = 1)',
    summary: 'A Semaphore whose `release()` throws if it would exceed its initial value.',
    python: 'multiprocessing.BoundedSemaphore',
  },
  Event: {
    signature: 'new Event()',
    summary: 'A flag across processes: `set()`, `clear()`, `isSet()`, `await wait({ timeout })`.',
    python: 'multiprocessing.Event',
  },
  Condition: {
    signature: 'new Condition(lock?)',
    summary: 'A condition variable across processes: `await wait({ timeout })`, `notify(n)`, `notifyAll()`, `await waitFor(predicate)`.',
    python: 'multiprocessing.Condition',
  },
  Barrier: {
    signature: 'new Barrier(parties, { action, timeout })',
    summary: 'Makes `parties` processes wait for each other: `await wait()`; `abort()`, `reset()`; rejects `BrokenBarrierError`.',
    python: 'multiprocessing.Barrier',
  },
  Value: {
    signature: 'new Value(typecode, init, { lock })',
    summary: 'A number in shared memory: `.value` reads and writes are seen by every process at once; `getLock()` for read-modify-write.',
    python: 'multiprocessing.Value',
  },
  Array: {
    signature: 'new Array(typecode, sizeOrInit, { lock })',
    summary: 'A typed array in shared memory, indexed synchronously from every process (also exported as `SharedArray`).',
    python: 'multiprocessing.Array',
  },
  SharedArray: {
    signature: 'new SharedArray(typecode, sizeOrInit, { lock })',
    summary: "A typed array in shared memory, indexed synchronously from every process (the runtime's `Array`).",
    python: 'multiprocessing.Array',
  },
  RawValue: { signature: 'new RawValue(typecode, init)', summary: 'A number in shared memory with no lock.', python: 'multiprocessing.RawValue' },
  RawArray: { signature: 'new RawArray(typecode, sizeOrInit)', summary: 'A typed array in shared memory with no lock.', python: 'multiprocessing.RawArray' },
  Manager: {
    signature: 'await using manager = await Manager()',
    summary:
      'Starts a SyncManager in its own process: dicts, lists, namespaces, locks and queues behind proxies any process can use; close it with `await using`.',
    python: 'multiprocessing.Manager',
  },
  SyncManager: {
    signature: 'class SyncManager extends BaseManager',
    summary:
      "A manager serving Python's SyncManager types: `dict()`, `list()`, `Namespace()`, `Lock()`, `Queue()`, `Value()`… each returning a proxy whose methods return Promises.",
    python: 'multiprocessing.managers.SyncManager',
  },
  Connection: {
    signature: 'class Connection',
    summary: 'One end of a pipe: `send()`/`await recv()` structured-cloneable objects, or raw bytes; `await poll({ timeout })`; `close()`.',
    python: 'multiprocessing.connection.Connection',
  },
  AsyncResult: {
    signature: 'class AsyncResult<T> implements PromiseLike<T>',
    summary: 'The result of `applyAsync`/`mapAsync`: awaitable, with `get({ timeout })`, `wait()`, `ready()` and `successful()`.',
    python: 'multiprocessing.pool.AsyncResult',
  },
  Future: {
    signature: 'class Future<T> implements PromiseLike<T>',
    summary: 'The eventual result of `submit()`: awaitable, with `result({ timeout })`, `exception()`, `cancel()`, `done()`, `addDoneCallback()`.',
    python: 'concurrent.futures.Future',
  },
  SharedMemory: {
    signature: 'new SharedMemory({ name, create, size })',
    summary: 'A named block of memory every process can map; removed when its last user exits, even after kill -9.',
    python: 'multiprocessing.shared_memory.SharedMemory',
  },
  ShareableList: {
    signature: 'new ShareableList(sequence, { name })',
    summary: 'A fixed-length list of numbers, booleans, strings, bytes and nulls in one SharedMemory.',
    python: 'multiprocessing.shared_memory.ShareableList',
  },
  getAllStartMethods: { signature: 'getAllStartMethods()', summary: 'Every start method this platform has.', python: 'multiprocessing.get_all_start_methods' },
  logToStderr: {
    signature: 'logToStderr(level?)',
    summary: "Sends the runtime logger's lines to stderr, each with the process name and pid.",
    python: 'multiprocessing.log_to_stderr',
  },
  FIRST_COMPLETED: {
    signature: "FIRST_COMPLETED = 'FIRST_COMPLETED'",
    summary: '`wait()` returns when any future finishes or is cancelled.',
    python: 'concurrent.futures.FIRST_COMPLETED',
  },
  FIRST_EXCEPTION: {
    signature: "FIRST_EXCEPTION = 'FIRST_EXCEPTION'",
    summary: '`wait()` returns when any future fails, or when all have finished.',
    python: 'concurrent.futures.FIRST_EXCEPTION',
  },
  ALL_COMPLETED: {
    signature: "ALL_COMPLETED = 'ALL_COMPLETED'",
    summary: '`wait()` returns when every future has finished or been cancelled.',
    python: 'concurrent.futures.ALL_COMPLETED',
  },
  BaseManager: {
    signature: 'new BaseManager({ address, authkey })',
    summary: 'A manager serving registered types to other processes or machines, authenticated by an HMAC challenge.',
    python: 'multiprocessing.managers.BaseManager',
  },
  isMainProcess: {
    signature: 'isMainProcess(): boolean',
    summary: 'True only in the main process: guard the code that starts processes with it, because every child re-imports the main module.',
    python: 'if __name__ == "__main__":',
  },
  currentProcess: {
    signature: 'currentProcess()',
    summary: 'The Process object of the process (or worker) running this code.',
    python: 'multiprocessing.current_process',
  },
  parentProcess: {
    signature: 'parentProcess()',
    summary: 'The parent of the current process, or null in the main process.',
    python: 'multiprocessing.parent_process',
  },
  activeChildren: { signature: 'activeChildren()', summary: 'The children of this process that are still alive.', python: 'multiprocessing.active_children' },
  cpuCount: { signature: 'cpuCount()', summary: 'The number of CPUs of the machine.', python: 'multiprocessing.cpu_count' },
  getContext: {
    signature: 'getContext(method?)',
    summary: 'The whole API bound to one start method: "spawn", "thread", "forkserver" or "inline".',
    python: 'multiprocessing.get_context',
  },
  setStartMethod: {
    signature: 'setStartMethod(method)',
    summary: 'Chooses how children start: "spawn" (default), "thread", "forkserver" or "inline".',
    python: 'multiprocessing.set_start_method',
  },
  getStartMethod: { signature: 'getStartMethod()', summary: 'The start method in use.', python: 'multiprocessing.get_start_method' },
  getLogger: { signature: 'getLogger()', summary: 'A logger that prefixes each line with the process name and pid.', python: 'multiprocessing.get_logger' },
  wait: {
    signature: 'wait(futures, { timeout, returnWhen })',
    summary: 'Waits for futures: resolves `{ done, notDone }` when the `returnWhen` condition holds.',
    python: 'concurrent.futures.wait',
  },
  asCompleted: { signature: 'asCompleted(futures, { timeout })', summary: 'Yields each future as it completes.', python: 'concurrent.futures.as_completed' },
  Empty: {
    signature: 'class Empty extends Error',
    summary: 'Rejected by a queue `get()` that timed out or found nothing without blocking.',
    python: 'queue.Empty',
  },
  Full: { signature: 'class Full extends Error', summary: 'Rejected by a bounded queue `put()` that timed out or would block.', python: 'queue.Full' },
  TimeoutError: {
    signature: 'class TimeoutError extends Error',
    summary: 'Rejected by a future or async result whose wait timed out.',
    python: 'multiprocessing.TimeoutError',
  },
  ProcessError: { signature: 'class ProcessError extends Error', summary: "The base of the runtime's errors.", python: 'multiprocessing.ProcessError' },
  BrokenBarrierError: {
    signature: 'class BrokenBarrierError extends ProcessError',
    summary: 'Rejected by a barrier wait that was broken, aborted or reset.',
    python: 'threading.BrokenBarrierError',
  },
  AuthenticationError: {
    signature: 'class AuthenticationError extends ProcessError',
    summary: 'A connection to a manager failed its HMAC challenge.',
    python: 'multiprocessing.AuthenticationError',
  },
  EOFError: {
    signature: 'class EOFError extends Error',
    summary: 'Rejected by `recv()` once every copy of the other end of the pipe is closed.',
    python: 'EOFError',
  },
  BrokenPipeError: { signature: 'class BrokenPipeError extends Error', summary: 'Thrown by a send to an end that is closed.', python: 'BrokenPipeError' },
  CancelledError: {
    signature: 'class CancelledError extends Error',
    summary: 'Rejected by a future that was cancelled before it ran.',
    python: 'concurrent.futures.CancelledError',
  },
  PicklingError: {
    signature: 'class PicklingError extends Error',
    summary: 'A value could not cross into or out of another process; the message names its path (`args[1].callback is a function`).',
    python: 'pickle.PicklingError',
  },
  WorkerDiedError: {
    signature: 'class WorkerDiedError extends ProcessError',
    summary:
      "A pool worker died while it held a task: only that task fails, naming pid and signal; the pool replaces the worker (CPython's Pool hangs instead, bpo-22393).",
    python: "(none: CPython's Pool hangs, bpo-22393)",
  },
  BrokenProcessPool: {
    signature: 'class BrokenProcessPool extends Error',
    summary: 'Rejected by every pending future when a worker of the executor died abruptly.',
    python: 'concurrent.futures.process.BrokenProcessPool',
  },
};

/** Methods, keyed `Class.method`, for a hover on `pool.map` when `pool` holds a Pool. */
export const METHOD_DOCS: Record<string, HoverDoc> = {
  'Process.start': {
    signature: 'start(): void',
    summary: 'Starts the child; `run()` (or `target`) begins there. Call it once, inside the main guard.',
    python: 'Process.start',
  },
  'Process.join': {
    signature: 'await join({ timeout }?)',
    summary: 'Waits for the child to end (or the timeout, in ms, to pass: it then resolves anyway; check `exitCode`).',
    python: 'Process.join',
  },
  'Process.terminate': { signature: 'terminate(): void', summary: 'Sends SIGTERM to the child.', python: 'Process.terminate' },
  'Process.kill': { signature: 'kill(): void', summary: 'Sends SIGKILL to the child.', python: 'Process.kill' },
  'Pool.map': {
    signature: 'await map(fn, iterable, { chunksize }?)',
    summary:
      "Applies the exported `fn` to every item in the workers and resolves the results in order; items go in chunks (Python's heuristic unless `chunksize` is given).",
    python: 'Pool.map',
  },
  'Pool.mapAsync': {
    signature: 'mapAsync(fn, iterable, { chunksize, callback, errorCallback }?)',
    summary: 'Like `map`, returning an AsyncResult at once.',
    python: 'Pool.map_async',
  },
  'Pool.imap': { signature: 'imap(fn, iterable, { chunksize }?)', summary: 'An async iterable of the results, in order, as they arrive.', python: 'Pool.imap' },
  'Pool.imapUnordered': {
    signature: 'imapUnordered(fn, iterable, { chunksize }?)',
    summary: 'An async iterable of the results in the order they finish.',
    python: 'Pool.imap_unordered',
  },
  'Pool.starmap': {
    signature: 'await starmap(fn, iterableOfArgs, { chunksize }?)',
    summary: 'Like `map`, spreading each item as the arguments: `fn(...item)`.',
    python: 'Pool.starmap',
  },
  'Pool.apply': { signature: 'await apply(fn, args)', summary: 'Runs `fn(...args)` in one worker and resolves its result.', python: 'Pool.apply' },
  'Pool.applyAsync': {
    signature: 'applyAsync(fn, args, { callback, errorCallback }?)',
    summary: 'Runs `fn(...args)` in one worker, returning an AsyncResult at once.',
    python: 'Pool.apply_async',
  },
  'Pool.close': {
    signature: 'close(): void',
    summary: 'Accepts no more tasks; the workers exit once the queued ones are done (then `await join()`).',
    python: 'Pool.close',
  },
  'Pool.terminate': { signature: 'terminate(): void', summary: 'Stops the workers at once; pending tasks fail.', python: 'Pool.terminate' },
  'ProcessPoolExecutor.submit': {
    signature: 'submit(fn, ...args): Future',
    summary: 'Schedules `fn(...args)` and returns its Future at once.',
    python: 'Executor.submit',
  },
  'ProcessPoolExecutor.map': {
    signature: 'map(fn, ...iterables, { timeout, chunksize }?)',
    summary: 'An async iterable of `fn` applied to the items, in order.',
    python: 'Executor.map',
  },
  'ProcessPoolExecutor.shutdown': {
    signature: 'await shutdown({ wait, cancelFutures }?)',
    summary: 'Accepts no more calls and, with `wait`, waits for the pending ones.',
    python: 'Executor.shutdown',
  },
  'Queue.put': {
    signature: 'await put(obj, { block, timeout }?)',
    summary: 'Adds an item; on a full bounded queue waits (or rejects `Full` after `timeout` ms, or at once with `block: false`).',
    python: 'Queue.put',
  },
  'Queue.get': {
    signature: 'await get({ block, timeout }?)',
    summary: 'Takes the next item; waits for one, or rejects `Empty` after `timeout` ms (at once with `block: false`). With no timeout it waits forever.',
    python: 'Queue.get',
  },
  'Lock.acquire': {
    signature: 'await acquire({ block, timeout }?): boolean',
    summary: 'Takes the lock, resolving `true`; with `block: false` or a `timeout` it may resolve `false`. Release it with `using` or in a `finally` block.',
    python: 'Lock.acquire',
  },
  'Lock.release': { signature: 'release(): void', summary: 'Frees the lock for the next waiter.', python: 'Lock.release' },
};

const CLASS_OF_KIND: Record<string, string> = { process: 'Process', pool: 'Pool', executor: 'ProcessPoolExecutor', queue: 'Queue', lock: 'Lock' };

/** Markdown for a hover on a method of a runtime object of this kind (`pool`, `queue`…). */
export function methodHoverMarkdown(kind: string, method: string): string | undefined {
  const owner = CLASS_OF_KIND[kind];
  const doc = owner === undefined ? undefined : METHOD_DOCS[`${owner}.${method}`];
  return doc ? render(doc) : undefined;
}

/** Markdown for a hover on `name`. */
export function hoverMarkdown(name: string): string | undefined {
  const doc = HOVER_DOCS[name];
  return doc ? render(doc) : undefined;
}

function render(doc: HoverDoc): string {
  return ['```typescript', doc.signature, '```', doc.summary, '', `*Python:* \`${doc.python}\``].join('\n');
}
