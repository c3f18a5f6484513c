// The `forkscope` package: Python's multiprocessing for TypeScript on Node.
// Runs inside the user's processes: depends on Node's own modules only, never on the extension.
export const version: string = '0.1.0';
export { ProcessError, TimeoutError, BrokenBarrierError, AuthenticationError, Empty, Full, EOFError, BrokenPipeError, CancelledError, BrokenProcessPool, WorkerDiedError, PicklingError, ValueError, AssertionError, RuntimeError, TargetNotExportedError, RemoteError, IndexError, KeyError, BufferTooShort, AttributeError } from './errors';
export { Value, RawValue, SharedArray, Array, RawArray, type Typecode, type ElementOf, type SynchronizedOptions, type SharedObjectLock } from './sharedctypes';
export { Queue, SimpleQueue, JoinableQueue, type QueueWaitOptions } from './queues';
export { SharedMemory, ShareableList, type SharedMemoryOptions } from './shared_memory';
export { Process, currentProcess, parentProcess, activeChildren, cpuCount, isMainProcess, type ProcessOptions, type JoinOptions } from './process';
export { Pool, AsyncResult, type PoolOptions, type TaskOptions, type AsyncOptions, type MapOptions } from './pool';
export { ProcessPoolExecutor, Future, wait, asCompleted, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, type CompletedFuture, type ExecutorOptions, type ExecutorMapOptions, type ReturnWhen, type MapResults } from './futures';
export { getStartMethod, setStartMethod, getAllStartMethods, getContext, type Context } from './context';
export { getLogger, logToStderr, Logger, type LogLevel } from './logging';
export { runChild as _runChild } from './spawn';
export { Manager, SyncManager, BaseManager, serveManager as _serveManager, type Address, type BaseManagerOptions, type DictProxy, type ListProxy, type NamespaceProxy, type ValueProxy, type ArrayProxy, type QueueProxy, type LockProxy, type SemaphoreProxy, type EventProxy, type ConditionProxy, type BarrierProxy, BaseProxy, AutoProxy, type Token, type RegisterOptions, type ProxyMembers } from './managers';
export { Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Barrier, type AcquireOptions, type BarrierOptions, type WaitTimeout } from './synchronize';
export { Pipe, Connection, connection, Listener, Client, type ListenerOptions, type ClientOptions, type ConnectionAddress } from './connection';
export { MemoryError } from './errors';
export { Structure, type StructType, type StructFields, type StructOf } from './sharedctypes';
export { workerCommand as _workerCommand } from './bullmq/workerCommand';
export { ConnectionError } from './bullmq/connection';
export type { BullmqContext } from './context';
export type { BullmqOptions } from './bullmq/connection';
