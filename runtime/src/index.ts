// The `forkscope` package: Python's multiprocessing for TypeScript on Node.
// Runs inside the user's processes: depends on Node's own modules only, never on the extension.
export const version: string = '0.1.0';
export { ProcessError, TimeoutError, BrokenBarrierError, AuthenticationError, Empty, Full, EOFError, BrokenPipeError, CancelledError, BrokenProcessPool, WorkerDiedError, PicklingError } from './errors';
export { Value, RawValue, SharedArray, Array, RawArray, type Typecode, type ElementOf, type SynchronizedOptions, type SharedObjectLock } from './sharedctypes';
export { SharedMemory, ShareableList, type SharedMemoryOptions } from './shared_memory';
