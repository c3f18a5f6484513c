// Start methods and contexts: getStartMethod/setStartMethod/getContext, as CPython's context.py.
// A context is the whole public API with Process, Pool and ProcessPoolExecutor bound to one start method.
import { RuntimeError, ValueError } from './errors';
import { Process, defaultStartMethod, setDefaultStartMethod, self, internalSubclass, type ProcessOptions } from './process';
import { Pool, type PoolOptions } from './pool';
import { ProcessPoolExecutor, type ExecutorOptions } from './futures';
import { ensureForkserver, setForkserverPreload as setPreload } from './forkserver';
import { setChildExecutable } from './popen';
import { ENV, type StartMethod } from './protocol';
import * as api from './index';
import { bullmqContextParts, type BullmqContextParts } from './bullmq/context';
import type { BullmqOptions } from './bullmq/connection';

const ALL: StartMethod[] = ['spawn', 'forkserver', 'thread', 'inline'];
let explicitlySet = false;

function check(method: string): asserts method is StartMethod {
  if (!ALL.includes(method as StartMethod)) throw new ValueError(`cannot find context for '${method}'`);
}

/** The start method new processes use. Python: get_start_method() */
export function getStartMethod(options: { allowNone?: boolean } = {}): StartMethod | null {
  // A child's method was set by its start (Python's spawn.prepare() calls set_start_method(force=True)).
  if (options.allowNone && !explicitlySet && !self.startMethod && process.env[ENV.singleProcess] !== '1') return null;
  return defaultStartMethod();
}

/** Sets the start method once per program (again only with `force`). Python: set_start_method() */
export function setStartMethod(method: StartMethod | null, options: { force?: boolean } = {}): void {
  if (explicitlySet && !options.force) throw new RuntimeError('context has already been set');
  if (method === null) {
    explicitlySet = false;
    setDefaultStartMethod(undefined);
    return;
  }
  check(method);
  explicitlySet = true;
  setDefaultStartMethod(method);
  if (method === 'forkserver' && self.isMain) ensureForkserver(self.mainModule);
}

/**
 * The Node executable that spawn and forkserver children run (`undefined` restores this process's own).
 * Python: set_executable()
 */
export function setExecutable(executable: string | undefined): void {
  if (executable !== undefined && (typeof executable !== 'string' || executable === ''))
    throw new TypeError(`setExecutable() takes the path of a Node executable, got ${typeof executable === 'string' ? 'an empty string' : typeof executable}`);
  setChildExecutable(executable);
}

/**
 * Modules (specifiers resolved from the main module) each forkserver standby loads before the program, so a
 * child started from it finds them loaded; one that cannot be loaded is skipped. Python: set_forkserver_preload()
 */
export function setForkserverPreload(moduleNames: string[]): void {
  if (!Array.isArray(moduleNames) || !moduleNames.every((name) => typeof name === 'string'))
    throw new TypeError('setForkserverPreload(moduleNames): moduleNames must be an array of module specifiers (strings)');
  setPreload(moduleNames);
}

/** Nothing to do: Node programs are not frozen into executables. Python: freeze_support() */
export function freezeSupport(): void {}

/** Every start method this platform has. Python: get_all_start_methods() */
export function getAllStartMethods(): StartMethod[] {
  return [...ALL];
}

/** The runtime's API bound to one start method. Python: multiprocessing.context.BaseContext */
export type Context = Omit<typeof api, 'Process' | 'Pool' | 'ProcessPoolExecutor' | 'getStartMethod'> & {
  Process: typeof Process;
  Pool: typeof Pool;
  ProcessPoolExecutor: typeof ProcessPoolExecutor;
  getStartMethod(): StartMethod;
};

/**
 * The API on a cluster: Pool and ProcessPoolExecutor run tasks as BullMQ jobs on `forkscope worker` processes
 * (`processes`/`maxWorkers` = most tasks in flight), Queue and JoinableQueue live in Redis.
 */
export type BullmqContext = Omit<Context, 'Queue' | 'JoinableQueue' | 'getStartMethod'> & {
  Queue: BullmqContextParts['Queue'];
  JoinableQueue: BullmqContextParts['JoinableQueue'];
  getStartMethod(): 'bullmq';
  /** Closes this context's Redis connections (they never keep an idle program alive; this frees them at once). */
  close(): Promise<void>;
};

const contexts = new Map<StartMethod, Context>();
const bullmqContexts = new Map<unknown, BullmqContext>();

function makeBullmqContext(options: BullmqOptions): BullmqContext {
  const parts = bullmqContextParts(options);
  class ClusterPool extends Pool {
    constructor(opts: PoolOptions | number = {}) {
      super(typeof opts === 'number' ? { processes: opts, context: parts.marker } : { ...opts, context: parts.marker });
    }
  }
  Object.defineProperty(ClusterPool, 'name', { value: 'Pool' });
  class ClusterExecutor extends ProcessPoolExecutor {
    constructor(opts: ExecutorOptions = {}) {
      super({ ...opts, context: parts.marker });
    }
  }
  Object.defineProperty(ClusterExecutor, 'name', { value: 'ProcessPoolExecutor' });
  Object.defineProperty(parts.Queue, 'name', { value: 'Queue' });
  Object.defineProperty(parts.JoinableQueue, 'name', { value: 'JoinableQueue' });
  const context = Object.create(getContext()) as BullmqContext;
  Object.defineProperties(context, {
    Pool: { value: ClusterPool, enumerable: true },
    ProcessPoolExecutor: { value: ClusterExecutor, enumerable: true },
    Queue: { value: parts.Queue, enumerable: true },
    JoinableQueue: { value: parts.JoinableQueue, enumerable: true },
    getStartMethod: { value: () => 'bullmq', enumerable: true },
    close: { value: () => parts.backend.close(), enumerable: true },
  });
  return context;
}

function makeContext(method: StartMethod): Context {
  class ContextProcess extends Process {
    constructor(options: ProcessOptions = {}) {
      super({ startMethod: method, ...options });
    }
  }
  Object.defineProperty(ContextProcess, 'name', { value: 'Process' });
  Object.defineProperty(ContextProcess, internalSubclass, { value: true });
  class ContextPool extends Pool {
    constructor(options: PoolOptions | number = {}) {
      super(typeof options === 'number' ? { processes: options, context: method } : { context: method, ...options });
    }
  }
  Object.defineProperty(ContextPool, 'name', { value: 'Pool' });
  class ContextExecutor extends ProcessPoolExecutor {
    constructor(options: ExecutorOptions = {}) {
      super({ context: method, ...options });
    }
  }
  Object.defineProperty(ContextExecutor, 'name', { value: 'ProcessPoolExecutor' });
  const context = Object.create(api) as Context;
  Object.defineProperties(context, {
    Process: { value: ContextProcess, enumerable: true },
    Pool: { value: ContextPool, enumerable: true },
    ProcessPoolExecutor: { value: ContextExecutor, enumerable: true },
    getStartMethod: { value: () => method, enumerable: true },
    // Python's concrete context: get_context() is itself, and its start method is fixed.
    getContext: { value: (other?: StartMethod) => (other === undefined ? context : getContext(other)), enumerable: true },
    setStartMethod: {
      value: () => {
        throw new ValueError(`cannot set the start method of a concrete context (getContext('${method}')); use setStartMethod() from 'forkscope'`);
      },
      enumerable: true,
    },
  });
  return context;
}

/** The API bound to `method` (the default start method when omitted). Python: get_context() */
export function getContext(method: 'bullmq', options?: BullmqOptions): BullmqContext;
export function getContext(method?: StartMethod): Context;
export function getContext(method?: StartMethod | 'bullmq', options?: BullmqOptions): Context | BullmqContext {
  if (method === 'bullmq') {
    const key = JSON.stringify([
      options?.connection ?? process.env.FORKSCOPE_BACKEND ?? '',
      options?.prefix ?? '',
      options?.queue ?? '',
      options?.unreachableTimeout ?? '',
    ]);
    let context = bullmqContexts.get(key);
    if (!context) bullmqContexts.set(key, (context = makeBullmqContext(options ?? {})));
    return context;
  }
  const m = method ?? defaultStartMethod();
  check(m);
  let context = contexts.get(m);
  if (!context) contexts.set(m, (context = makeContext(m)));
  if (m === 'forkserver' && self.isMain) ensureForkserver(self.mainModule);
  return context;
}
