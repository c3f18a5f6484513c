// Every error class the runtime throws, each named as its Python twin so `error.name` reads the same, and the one
// table that rebuilds an error which crossed a process (pool worker, manager, broker: serialize.ts decodeError()).
// Data only: no Node imports, no other runtime module, so any file (child, parent, object code) may import it.

/** What `named()` makes: an error class whose message may be left out. */
export type ErrorClass<T extends Error = Error> = new (message?: string, options?: ErrorOptions) => T;

/**
 * A class of error whose `name` is `name` (on its prototype, as JavaScript's own errors carry theirs, so a minified
 * build that renames classes still says the Python name) and whose message defaults to `fallback`.
 */
function named<T extends Error>(name: string, Base: ErrorClass<T>, fallback?: string): ErrorClass<T> {
  const Named = class extends (Base as ErrorClass) {
    constructor(message: string | undefined = fallback, options?: ErrorOptions) {
      super(message, options);
    }
  };
  Object.defineProperty(Named.prototype, 'name', { value: name, writable: true, configurable: true });
  return Named as unknown as ErrorClass<T>;
}

/** Base of multiprocessing's errors. Python: multiprocessing.ProcessError */
export class ProcessError extends named('ProcessError', Error) {}

/** A wait ran out of time. Python: multiprocessing.TimeoutError / concurrent.futures.TimeoutError */
export class TimeoutError extends named('TimeoutError', ProcessError) {}

/** Raised by a barrier whose wait was broken or reset. Python: threading.BrokenBarrierError */
export class BrokenBarrierError extends named('BrokenBarrierError', ProcessError) {}

/** A connection's authentication failed. Python: multiprocessing.AuthenticationError */
export class AuthenticationError extends named('AuthenticationError', ProcessError) {}

/** A non-blocking or timed `get()` found the queue empty. Python: queue.Empty */
export class Empty extends named('Empty', Error, 'queue is empty') {}

/** A non-blocking or timed `put()` found the queue full. Python: queue.Full */
export class Full extends named('Full', Error, 'queue is full') {}

/** The other end of a pipe closed before a message arrived. Python: EOFError */
export class EOFError extends named('EOFError', Error, 'the other end of the connection was closed') {}

/** A send went to an end that is closed. Python: BrokenPipeError */
export class BrokenPipeError extends named('BrokenPipeError', Error, 'broken pipe') {}

/** A future was cancelled before it ran. Python: concurrent.futures.CancelledError */
export class CancelledError extends named('CancelledError', Error, 'the future was cancelled') {}

/** A pool worker died while it held a task; only that task fails. Python: (none: CPython's Pool hangs, bpo-22393) */
export class WorkerDiedError extends named('WorkerDiedError', ProcessError) {
  /** The worker's pid, when it had one. */
  readonly pid: number | undefined;
  /** The signal that ended it, or null when it exited by itself. */
  readonly signal: string | null;
  /** The exit code, or null when a signal ended it. */
  readonly exitCode: number | null;
  constructor(message: string, details: { pid?: number; signal?: string | null; exitCode?: number | null }) {
    super(message);
    this.pid = details.pid;
    this.signal = details.signal ?? null;
    this.exitCode = details.exitCode ?? null;
  }
}

/** A value could not cross into or out of another process; the message names its path. Python: pickle.PicklingError */
export class PicklingError extends named('PicklingError', Error) {}

/** Thrown when an operation is not valid in the object's state (start twice, join before start). Python: ValueError / AssertionError */
export class ValueError extends named('ValueError', Error) {}

/** Python's AssertionError, used where multiprocessing asserts (joining a process that was never started). */
export class AssertionError extends named('AssertionError', Error) {}

/** Python's RuntimeError: e.g. starting a process before the main module finished its bootstrapping. */
export class RuntimeError extends named('RuntimeError', Error) {}

/** An executor cannot be used because one of its workers failed. Python: concurrent.futures.BrokenExecutor (a RuntimeError) */
export class BrokenExecutor extends named('BrokenExecutor', RuntimeError, 'the executor is broken') {}

/** A worker of the executor died abruptly, so the executor cannot be used. Python: concurrent.futures.process.BrokenProcessPool */
export class BrokenProcessPool extends named(
  'BrokenProcessPool',
  BrokenExecutor,
  'A process in the process pool was terminated abruptly while the future was running or pending.',
) {}

/** An operation not allowed in the Future's state (a result set twice). Python: concurrent.futures.InvalidStateError */
export class InvalidStateError extends named('InvalidStateError', Error) {}

/**
 * A pool task's result could not be sent back to the parent; `exc` says why and `value` shows the result.
 * Python: multiprocessing.pool.MaybeEncodingError
 */
export class MaybeEncodingError extends named('MaybeEncodingError', Error) {
  /** Why the result could not be sent (Python: repr of the exception). */
  exc: string;
  /** The result that could not be sent (Python: repr of the value). */
  value: string;
  constructor(exc: string, value: string) {
    super(`Error sending result: '${value}'. Reason: '${exc}'`);
    this.exc = exc;
    this.value = value;
  }
}

/** A target could not be found by module and export name, so it cannot run in a child. Python: pickle.PicklingError "Can't pickle <function>" */
export class TargetNotExportedError extends PicklingError {}

/**
 * An error from another process whose class cannot be found here (not exported, or not loaded): it carries the
 * remote name (as its `name`, since a child's error keeps its name, and as `remoteName`), message and stack.
 * Python: multiprocessing.managers.RemoteError
 */
export class RemoteError extends Error {
  /** The error's own name in the process that threw it. */
  readonly remoteName: string;
  constructor(name: string, message: string, stack?: string) {
    super(message);
    this.name = name;
    this.remoteName = name;
    if (stack) this.stack = stack;
  }
}

/** An index outside a sequence (shared Array, ShareableList, list proxy). Python: IndexError */
export class IndexError extends named('IndexError', Error, 'index out of range') {}

/** A missing key (dict proxy). Python: KeyError */
export class KeyError extends named('KeyError', Error) {}

/** Shared memory of the asked size cannot be had (too large, or the system refused it). Python: MemoryError */
export class MemoryError extends named('MemoryError', Error) {}

/** A received message is longer than the buffer given to `recvBytesInto()`; `data` holds the whole message. Python: multiprocessing.BufferTooShort */
export class BufferTooShort extends named('BufferTooShort', ProcessError) {
  /** The message that did not fit (Python: `args[0]`). */
  readonly data: Buffer;
  /** Python's `args`: the message, so a port of `e.args[0]` reads the same. */
  readonly args: [Buffer];
  constructor(data: Buffer, message = `the message of ${data.length} bytes does not fit in the buffer`) {
    super(message);
    this.data = data;
    this.args = [data];
  }
}

/** A missing attribute or method (manager proxies, Namespace). Python: AttributeError */
export class AttributeError extends named('AttributeError', Error) {}

/** An operation on a closed handle, or a system call that failed (a closed Connection, a closed Listener…). Python: OSError */
export class OSError extends named('OSError', Error) {}

/** A file or socket path that is not there (SharedMemory by a name nobody created, a Listener's socket). Python: FileNotFoundError */
export class FileNotFoundError extends named('FileNotFoundError', OSError) {}

/** A name already taken (SharedMemory created twice). Python: FileExistsError */
export class FileExistsError extends named('FileExistsError', OSError) {}

/** The system refused access (a Listener's socket path). Python: PermissionError */
export class PermissionError extends named('PermissionError', OSError) {}

/** A connection could not be made or was lost (Redis unreachable for the cluster backend). Python: ConnectionError */
export class ConnectionError extends named('ConnectionError', OSError) {}

/** Nobody listens at the address (a Listener, a manager). Python: ConnectionRefusedError */
export class ConnectionRefusedError extends named('ConnectionRefusedError', ConnectionError) {}

/** The other side dropped the connection (a manager). Python: ConnectionResetError */
export class ConnectionResetError extends named('ConnectionResetError', ConnectionError) {}

/** Node's errno codes that have a Python class of their own. */
const ERRNO_CLASSES: Record<string, ErrorClass> = {
  ECONNREFUSED: ConnectionRefusedError,
  ECONNRESET: ConnectionResetError,
  EPIPE: ConnectionResetError,
  ENOENT: FileNotFoundError,
  EEXIST: FileExistsError,
  EACCES: PermissionError,
  EADDRINUSE: OSError,
};

/**
 * Node's failed system call (`error.code` ECONNREFUSED, ENOENT…) as its Python class, keeping Node's fields (code,
 * errno, syscall, address…), its stack and, when given, a message of our own; undefined for a code with no class.
 */
export function errnoError(error: NodeJS.ErrnoException, message = error.message): Error | undefined {
  const Class = error.code !== undefined && Object.hasOwn(ERRNO_CLASSES, error.code) ? ERRNO_CLASSES[error.code] : undefined;
  if (!Class) return undefined;
  const out = Object.assign(error.cause === undefined ? new Class(message) : new Class(message, { cause: error.cause }), error);
  if (message === error.message && error.stack) out.stack = error.stack.replace(/^[^:\n]*/, out.name);
  return out;
}

/**
 * Every class above that an error from another process is rebuilt as, and JavaScript's own, by name. Not RemoteError
 * (it stands for a class that is not here) nor TargetNotExportedError (a PicklingError by name, for the user).
 */
const CLASSES = new Map<string, ErrorClass>(
  [
    Error,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
    ProcessError,
    TimeoutError,
    BrokenBarrierError,
    AuthenticationError,
    Empty,
    Full,
    EOFError,
    BrokenPipeError,
    CancelledError,
    WorkerDiedError,
    PicklingError,
    ValueError,
    AssertionError,
    RuntimeError,
    BrokenExecutor,
    BrokenProcessPool,
    InvalidStateError,
    MaybeEncodingError,
    IndexError,
    KeyError,
    MemoryError,
    BufferTooShort,
    AttributeError,
    OSError,
    FileNotFoundError,
    FileExistsError,
    PermissionError,
    ConnectionError,
    ConnectionRefusedError,
    ConnectionResetError,
  ].map((Class) => [(Class.prototype as Error).name, Class as unknown as ErrorClass]),
);

/** The runtime's or JavaScript's error class called `name` (its Python name), or undefined. */
export function errorClass(name: string): ErrorClass | undefined {
  return CLASSES.get(name);
}

/** The name `Class` is known by on every side, when it is one of the table's (and not a user's subclass of one). */
export function knownErrorName(Class: Function): string | undefined {
  const name = (Class.prototype as Partial<Error> | undefined)?.name;
  return typeof name === 'string' && CLASSES.get(name) === Class ? name : undefined;
}
