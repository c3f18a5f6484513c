// The `forkscope` package: Python's multiprocessing for TypeScript on Node.
// Runs inside the user's processes: depends on Node's own modules only, never on the extension.
/** The runtime package's version, as its package.json says (one level above both src/ and dist/). */
export const version: string = (require('../package.json') as { version: string }).version;
export {
  ProcessError,
  TimeoutError,
  BrokenBarrierError,
  AuthenticationError,
  Empty,
  Full,
  EOFError,
  BrokenPipeError,
  CancelledError,
  BrokenExecutor,
  BrokenProcessPool,
  InvalidStateError,
  WorkerDiedError,
  PicklingError,
  ValueError,
  AssertionError,
  RuntimeError,
  TargetNotExportedError,
  RemoteError,
  IndexError,
  KeyError,
  BufferTooShort,
  AttributeError,
  MaybeEncodingError,
} from './errors';
export { Value, RawValue, SharedArray, Array, RawArray, type Typecode, type ElementOf, type SynchronizedOptions, type SharedObjectLock } from './sharedctypes';
export { Queue, SimpleQueue, JoinableQueue, type QueueWaitOptions } from './queues';
export { SharedMemory, ShareableList, type SharedMemoryOptions } from './shared_memory';
export {
  Process,
  ParentProcess,
  currentProcess,
  parentProcess,
  activeChildren,
  cpuCount,
  isMainProcess,
  type ProcessOptions,
  type JoinOptions,
} from './process';
export { Pool, AsyncResult, type PoolOptions, type TaskOptions, type AsyncOptions, type MapOptions } from './pool';
export {
  ProcessPoolExecutor,
  Future,
  wait,
  asCompleted,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  ALL_COMPLETED,
  type CompletedFuture,
  type ExecutorOptions,
  type ExecutorMapOptions,
  type ReturnWhen,
  type MapResults,
} from './futures';
export { getStartMethod, setStartMethod, getAllStartMethods, getContext, setExecutable, setForkserverPreload, freezeSupport, type Context } from './context';
export { getLogger, logToStderr, Logger, type LogLevel } from './logging';
export {
  Manager,
  SyncManager,
  BaseManager,
  type Address,
  type BaseManagerOptions,
  type DictProxy,
  type ListProxy,
  type NamespaceProxy,
  type ValueProxy,
  type ArrayProxy,
  type QueueProxy,
  type LockProxy,
  type SemaphoreProxy,
  type EventProxy,
  type ConditionProxy,
  type BarrierProxy,
  type PoolProxy,
  type AsyncResultProxy,
  type PoolIteratorProxy,
  BaseProxy,
  AutoProxy,
  IteratorProxy,
  type Token,
  type RegisterOptions,
  type ProxyMembers,
} from './managers';
export { Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Barrier, type AcquireOptions, type BarrierOptions, type WaitTimeout } from './synchronize';
export {
  Pipe,
  Connection,
  connection,
  Listener,
  Client,
  deliverChallenge,
  answerChallenge,
  type ListenerOptions,
  type ClientOptions,
  type ConnectionAddress,
  type ChallengeConnection,
} from './connection';
export {
  MemoryError,
  OSError,
  FileNotFoundError,
  FileExistsError,
  PermissionError,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionResetError,
} from './errors';
export { Structure, type StructType, type StructFields, type StructOf } from './sharedctypes';
export type { BullmqContext } from './context';
export type { BullmqOptions } from './bullmq/connection';
