// Every error class the runtime throws, each named as its Python twin so `error.name` reads the same.
// Data only: no Node imports, no other runtime module, so any file (child, parent, object code) may import it.

/** Base of multiprocessing's errors. Python: multiprocessing.ProcessError */
export class ProcessError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    // Explicit names: a minified build renames classes, and `name` must stay the Python name.
    this.name = 'ProcessError';
  }
}

/** A wait ran out of time. Python: multiprocessing.TimeoutError / concurrent.futures.TimeoutError */
export class TimeoutError extends ProcessError {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TimeoutError';
  }
}

/** Raised by a barrier whose wait was broken or reset. Python: threading.BrokenBarrierError */
export class BrokenBarrierError extends ProcessError {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BrokenBarrierError';
  }
}

/** A connection's authentication failed. Python: multiprocessing.AuthenticationError */
export class AuthenticationError extends ProcessError {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AuthenticationError';
  }
}

/** A non-blocking or timed `get()` found the queue empty. Python: queue.Empty */
export class Empty extends Error {
  constructor(message = 'queue is empty', options?: ErrorOptions) {
    super(message, options);
    this.name = 'Empty';
  }
}

/** A non-blocking or timed `put()` found the queue full. Python: queue.Full */
export class Full extends Error {
  constructor(message = 'queue is full', options?: ErrorOptions) {
    super(message, options);
    this.name = 'Full';
  }
}

/** The other end of a pipe closed before a message arrived. Python: EOFError */
export class EOFError extends Error {
  constructor(message = 'the other end of the connection was closed', options?: ErrorOptions) {
    super(message, options);
    this.name = 'EOFError';
  }
}

/** A send went to an end that is closed. Python: BrokenPipeError */
export class BrokenPipeError extends Error {
  constructor(message = 'broken pipe', options?: ErrorOptions) {
    super(message, options);
    this.name = 'BrokenPipeError';
  }
}

/** A future was cancelled before it ran. Python: concurrent.futures.CancelledError */
export class CancelledError extends Error {
  constructor(message = 'the future was cancelled', options?: ErrorOptions) {
    super(message, options);
    this.name = 'CancelledError';
  }
}

/** A pool worker died while it held a task; only that task fails. Python: (none: CPython's Pool hangs, bpo-22393) */
export class WorkerDiedError extends ProcessError {
  /** The worker's pid, when it had one. */
  readonly pid: number | undefined;
  /** The signal that ended it, or null when it exited by itself. */
  readonly signal: string | null;
  /** The exit code, or null when a signal ended it. */
  readonly exitCode: number | null;
  constructor(message: string, details: { pid?: number; signal?: string | null; exitCode?: number | null }) {
    super(message);
    this.name = 'WorkerDiedError';
    this.pid = details.pid;
    this.signal = details.signal ?? null;
    this.exitCode = details.exitCode ?? null;
  }
}

/** A value could not cross into or out of another process; the message names its path. Python: pickle.PicklingError */
export class PicklingError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PicklingError';
  }
}

/** Thrown when an operation is not valid in the object's state (start twice, join before start). Python: ValueError / AssertionError */
export class ValueError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ValueError';
  }
}

/** Python's AssertionError, used where multiprocessing asserts (joining a process that was never started). */
export class AssertionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AssertionError';
  }
}

/** Python's RuntimeError: e.g. starting a process before the main module finished its bootstrapping. */
export class RuntimeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

/** An executor cannot be used because one of its workers failed. Python: concurrent.futures.BrokenExecutor (a RuntimeError) */
export class BrokenExecutor extends RuntimeError {
  constructor(message = 'the executor is broken', options?: ErrorOptions) {
    super(message, options);
    this.name = 'BrokenExecutor';
  }
}

/** A worker of the executor died abruptly, so the executor cannot be used. Python: concurrent.futures.process.BrokenProcessPool */
export class BrokenProcessPool extends BrokenExecutor {
  constructor(message = 'A process in the process pool was terminated abruptly while the future was running or pending.', options?: ErrorOptions) {
    super(message, options);
    this.name = 'BrokenProcessPool';
  }
}

/** An operation not allowed in the Future's state (a result set twice). Python: concurrent.futures.InvalidStateError */
export class InvalidStateError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidStateError';
  }
}

/**
 * A pool task's result could not be sent back to the parent; `exc` says why and `value` shows the result.
 * Python: multiprocessing.pool.MaybeEncodingError
 */
export class MaybeEncodingError extends Error {
  /** Why the result could not be sent (Python: repr of the exception). */
  exc: string;
  /** The result that could not be sent (Python: repr of the value). */
  value: string;
  constructor(exc: string, value: string) {
    super(`Error sending result: '${value}'. Reason: '${exc}'`);
    this.name = 'MaybeEncodingError';
    this.exc = exc;
    this.value = value;
  }
}

/** A target could not be found by module and export name, so it cannot run in a child. Python: pickle.PicklingError "Can't pickle <function>" */
export class TargetNotExportedError extends PicklingError {
  constructor(message: string) {
    super(message);
    this.name = 'PicklingError';
  }
}

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
export class IndexError extends Error {
  constructor(message = 'index out of range', options?: ErrorOptions) {
    super(message, options);
    this.name = 'IndexError';
  }
}

/** A missing key (dict proxy). Python: KeyError */
export class KeyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KeyError';
  }
}

/** Shared memory of the asked size cannot be had (too large, or the system refused it). Python: MemoryError */
export class MemoryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MemoryError';
  }
}

/** A received message is longer than the buffer given to `recvBytesInto()`; `data` holds the whole message. Python: multiprocessing.BufferTooShort */
export class BufferTooShort extends ProcessError {
  /** The message that did not fit (Python: `args[0]`). */
  readonly data: Buffer;
  /** Python's `args`: the message, so a port of `e.args[0]` reads the same. */
  readonly args: [Buffer];
  constructor(data: Buffer, message = `the message of ${data.length} bytes does not fit in the buffer`) {
    super(message);
    this.name = 'BufferTooShort';
    this.data = data;
    this.args = [data];
  }
}

/** A missing attribute or method (manager proxies, Namespace). Python: AttributeError */
export class AttributeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AttributeError';
  }
}

/** An operation on a closed handle, or a system call that failed (a closed Connection, a closed Listener…). Python: OSError */
export class OSError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OSError';
  }
}
