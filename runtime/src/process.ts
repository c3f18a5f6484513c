// Process and the per-process identity (name, counter, main-or-child), as CPython's process.py.
// Parent side of starting children; the child side is spawn.ts. Node's modules only, never the extension.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { isMainThread, threadId } from 'node:worker_threads';
import { resolve } from 'node:path';
import { AssertionError, RuntimeError, ValueError } from './errors';
import { encode } from './serialize';
import { deadlineOf, readTimeout } from './timeouts';
import { findTarget, type TargetRef } from './targets';
import { ENV, processKey, type ChildStarted, type StartMethod } from './protocol';
import { spawnChild, startThread, type ChildHandle, type StartPayload } from './popen';
import { startFromForkserver } from './forkserver';
import * as telemetry from './telemetry';
import { getLogger } from './logging';
import type { TransferContext } from './reduction';
import { atExit } from './atExit';

/** This process's (or thread's) place in the program; the child bootstrap fills it before user code. */
export const self = {
  isMain: isMainThread,
  identity: [] as number[],
  counter: 0,
  name: 'MainProcess',
  daemon: false,
  /** True while a child imports the main module: starting a process then is Python's bootstrapping error. */
  bootstrapping: false,
  mainModule: process.argv[1] ? resolve(process.argv[1]) : undefined,
  parent: undefined as { pid: number; name: string; key: string } | undefined,
  startMethod: undefined as StartMethod | undefined,
  /** The Process object of this child (Python's current_process() in a child is the unpickled Process). */
  current: undefined as Process | undefined,
  /** This process's authentication key: random in the main process, the parent's in a child. */
  authkey: undefined as Buffer | undefined,
};

/** The current process's authkey, made on first need in the main process (Python: os.urandom(32)). */
function ownAuthkey(): Buffer {
  self.authkey ??= randomBytes(32);
  return self.authkey;
}

/** Inline processes run in the parent's process; this tells currentProcess() which one is running. */
export const inlineCurrent = new AsyncLocalStorage<Process>();
/** Inline processes' keys in the telemetry (`pid~n`), and how many were started. */
const inlineKeys = new WeakMap<Process, string>();
let inlineCount = 0;
function currentInlineKey(): string | undefined {
  const running = inlineCurrent.getStore();
  return running === undefined ? undefined : inlineKeys.get(running);
}

/** Marks the runtime's own Process subclasses (contexts), which children rebuild as a plain Process. */
export const internalSubclass: unique symbol = Symbol('forkscope.internalSubclass');

/** Marks a Process made for a worker the runtime started itself (Process._adopt). */
const adoptedIdentity = Symbol('forkscope.adoptedIdentity');

/**
 * Lists a worker the runtime started (a pool's or an executor's) among this process's children, as a Process: alive until its
 * handle exits, then unlisted. `handle` should be a view of its own for ref()/unref() (a pending join() refs it),
 * so a join does not undo its owner's choice (see sharedRef in workers.ts).
 */
export function listWorker(handle: ChildHandle, name: string, identity: number[], method: StartMethod): Process {
  return Process._adopt(handle, name, identity, method);
}

/** Tells the hub that a child this process started is running (the parent reports it, since a killed child cannot). */
export function reportChildStart(handle: ChildHandle, about: Pick<ChildStarted, 'name' | 'startMethod' | 'role' | 'daemon' | 'pool'>): void {
  telemetry.emitNow({ t: 'child.start', ts: Date.now(), key: processKey(handle.pid, handle.threadId), pid: handle.pid, threadId: handle.threadId, ...about });
}

/** Tells the hub that a child this process started has exited. */
export function reportChildExit(handle: ChildHandle, exitCode: number | null, signal: NodeJS.Signals | null): void {
  telemetry.emitNow({ t: 'child.exit', ts: Date.now(), key: processKey(handle.pid, handle.threadId), exitCode, signal });
}

/** Live children of this process, for activeChildren() and exit handling. */
const children = new Set<Process>();

let defaultMethod: StartMethod | undefined;
export function forcedInline(): boolean {
  return process.env[ENV.singleProcess] === '1';
}

/**
 * The start method in force: FORKSCOPE_SINGLE_PROCESS=1 ⇒ inline, else the one set, else (in a child) the one
 * it was started with, as Python's spawn.prepare() sets it from the parent, else spawn.
 */
export function defaultStartMethod(): StartMethod {
  if (forcedInline()) return 'inline';
  return defaultMethod ?? self.startMethod ?? 'spawn';
}
export function setDefaultStartMethod(method: StartMethod | undefined): void {
  defaultMethod = method;
}

const BOOTSTRAP_MESSAGE =
  'An attempt has been made to start a new process before the current process has finished its bootstrapping phase.\n\n' +
  'This probably means that you are not using fork to start your child processes and you have forgotten to use the proper idiom in the main module:\n\n' +
  '    if (isMainProcess()) {\n        ...\n    }\n\n' +
  'The "freeze_support()" line can be omitted if the program is not going to be frozen to produce an executable.';

/** Throws Python's bootstrapping error when a child starts processes while importing the main module. */
export function checkNotBootstrapping(): void {
  if (self.bootstrapping) throw new RuntimeError(BOOTSTRAP_MESSAGE);
}

export function nextIdentity(): number[] {
  return [...self.identity, ++self.counter];
}

export function selfKey(): string {
  return processKey(process.pid, threadId);
}

export interface ProcessOptions {
  /** The function `run()` calls; it must be exported from its module. */
  target?: Function;
  /** Positional arguments for the target. @default [] */
  args?: unknown[];
  /** Passed as one last argument when given (JavaScript has no keyword arguments). */
  kwargs?: Record<string, unknown>;
  /** @default `Process-N` */
  name?: string;
  /** Daemonic children are terminated when their parent exits. @default the parent's daemon flag */
  daemon?: boolean;
  /** The start method for this process. @default getStartMethod() */
  startMethod?: StartMethod;
}

export interface JoinOptions {
  /** Milliseconds; the Promise resolves when they pass even if the process still runs. */
  timeout?: number;
}

/**
 * A process that runs `target(...args)` (or an overriding `run()`) in a new process or thread.
 * Python: multiprocessing.Process
 */
export class Process {
  #target: Function | undefined;
  #args: unknown[];
  #kwargs: Record<string, unknown> | undefined;
  #name: string;
  #daemon: boolean;
  #identity: number[];
  #startMethod: StartMethod | undefined;
  #handle: ChildHandle | undefined;
  /** join() calls pending on a daemonic child, which hold its handle. */
  #joiners = 0;
  #pid: number | undefined;
  #threadId = 0;
  #exitCode: number | null = null;
  #started = false;
  #closed = false;
  #exited: Promise<void> | undefined;
  #markExited: (() => void) | undefined;
  #authkey: Buffer;

  constructor(options: ProcessOptions = {}) {
    // Python copies the creating process's config, authkey included.
    this.#authkey = Buffer.from(ownAuthkey());
    this.#target = options.target;
    this.#args = options.args ?? [];
    this.#kwargs = options.kwargs;
    this.#identity = (options as { [adoptedIdentity]?: number[] })[adoptedIdentity] ?? nextIdentity();
    this.#name = options.name ?? `Process-${this.#identity.join(':')}`;
    this.#daemon = options.daemon ?? self.daemon;
    this.#startMethod = options.startMethod;
  }

  /** A worker the runtime started (a pool's or an executor's) as a Process of this one, as Python's are. Internal: listWorker(). */
  static _adopt(handle: ChildHandle, name: string, identity: number[], method: StartMethod): Process {
    const p = new Process({ name, daemon: true, startMethod: method, [adoptedIdentity]: identity } as ProcessOptions);
    p.#started = true;
    p.#handle = handle;
    p.#pid = handle.pid;
    p.#threadId = handle.threadId;
    p.#exited = new Promise((r) => (p.#markExited = r));
    children.add(p);
    handle.onExit((exitCode) => {
      p.#exitCode = exitCode;
      children.delete(p);
      p.#markExited?.();
    });
    return p;
  }

  /** The method run in the child: calls the target. Override it in a subclass. Python: Process.run */
  run(): unknown {
    if (!this.#target) return undefined;
    return this.#kwargs === undefined ? this.#target(...this.#args) : this.#target(...this.#args, this.#kwargs);
  }

  /** Starts the child; synchronous, as in Python. Python: Process.start */
  start(): void {
    if (this.#closed) throw new ValueError('process object is closed');
    if (this.#started) throw new AssertionError('cannot start a process twice');
    if (self.current === this || this === mainProcess) throw new AssertionError('can only start a process object created by current process');
    if (self.daemon && !self.isMain) throw new AssertionError('daemonic processes are not allowed to have children');
    checkNotBootstrapping();
    // FORKSCOPE_SINGLE_PROCESS=1 forces inline for the whole program, explicit contexts included.
    const method = forcedInline() ? 'inline' : (this.#startMethod ?? defaultStartMethod());
    this.#startMethod = method;
    this.#exited = new Promise((r) => (this.#markExited = r));
    if (method === 'inline') {
      this.#startInline();
      return;
    }
    const context: TransferContext = { startMethod: method, transfer: [], receiverGone: [] };
    // A pipe end reduced for this child stays open until the child revives it or is gone (never started, or exited).
    const letGo = () => {
      for (const release of context.receiverGone!.splice(0)) release();
    };
    let handle: ChildHandle;
    try {
      const payload = this.#payload(method, context);
      handle =
        method === 'thread'
          ? startThread(payload, context.transfer)
          : method === 'forkserver'
            ? startFromForkserver(payload)
            : spawnChild(payload, context.transfer);
    } catch (error) {
      letGo();
      throw error;
    }
    this.#started = true;
    this.#handle = handle;
    this.#pid = handle.pid;
    this.#threadId = handle.threadId;
    children.add(this);
    if (this.#daemon) handle.unref();
    handle.onMessage((message) => {
      if ((message as { t?: string } | null)?.t === 'flush-ack') return;
    });
    handle.onExit((exitCode, signal) => {
      this.#exitCode = exitCode;
      children.delete(this);
      letGo();
      reportChildExit(handle, exitCode, signal);
      this.#markExited?.();
    });
    reportChildStart(handle, { name: this.#name, startMethod: method, role: 'process', daemon: this.#daemon });
  }

  #payload(method: 'spawn' | 'thread' | 'forkserver', context: TransferContext): StartPayload {
    let target: TargetRef | undefined;
    let subclass: TargetRef | undefined;
    const ctor = this.constructor as Function;
    // A context's Process (getContext().Process) is the runtime's own subclass: the child rebuilds a plain Process.
    if (ctor !== Process && !Object.hasOwn(ctor, internalSubclass)) subclass = findTarget(ctor);
    if (this.#target) target = findTarget(this.#target);
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(this)) fields[key] = (this as unknown as Record<string, unknown>)[key];
    // Set through the setter on the child's copy, which makes it that process's own key.
    fields.authkey = this.#authkey;
    return {
      kind: 'process',
      main: self.mainModule,
      name: this.#name,
      identity: this.#identity,
      daemon: this.#daemon,
      startMethod: method,
      parentKey: selfKey(),
      parentName: currentProcess().name,
      logLevel: getLogger().getEffectiveLevel(),
      target,
      subclass,
      args: this.#target ? encode(this.#args, context, 'args') : [],
      kwargs: this.#kwargs === undefined ? undefined : encode(this.#kwargs, context, 'kwargs'),
      fields: encode(fields, context, `${this.constructor.name || 'Process'}`),
    };
  }

  #startInline(): void {
    this.#started = true;
    this.#pid = process.pid;
    children.add(this);
    // Shown as the logical process it is: its own node (key `pid~n`) under the process that started it.
    const key = `${process.pid}~${++inlineCount}`;
    inlineKeys.set(this, key);
    telemetry.setInlineContext(currentInlineKey);
    telemetry.emitNow({
      t: 'child.start',
      ts: Date.now(),
      key,
      pid: process.pid,
      threadId: 0,
      name: this.#name,
      startMethod: 'inline',
      role: 'process',
      daemon: this.#daemon,
    });
    // Python's child runs from a fresh start: run() begins on a later tick, as a real child would.
    setImmediate(() => {
      inlineCurrent.run(this, async () => {
        let code = 0;
        try {
          await this.run();
        } catch (error) {
          code = 1;
          reportUncaught(this.#name, error);
        }
        this.#exitCode = code;
        children.delete(this);
        telemetry.emitNow({ t: 'child.exit', ts: Date.now(), key, exitCode: code, signal: null });
        this.#markExited?.();
      });
    });
  }

  /** Waits until the process exits or `timeout` ms pass; never rejects on timeout. Python: Process.join */
  async join(options?: number | JoinOptions): Promise<void> {
    const timeout = readTimeout(options, 'Process.join', true);
    if (this.#closed) throw new ValueError('process object is closed');
    if (self.current === this || this === mainProcess || inlineCurrent.getStore() === this) throw new AssertionError('can only join a child process');
    if (!this.#started || !this.#exited) throw new AssertionError('can only join a started process');
    if (timeout === undefined) return this.#whileJoined(this.#exited);
    let timer: NodeJS.Timeout | undefined;
    await this.#whileJoined(Promise.race([this.#exited, new Promise<void>((r) => (timer = setTimeout(r, timeout)))]));
    clearTimeout(timer);
  }

  /**
   * A daemonic child does not keep the program alive, but a pending join() of it does (DESIGN.md: pending waits keep
   * a program alive): its handle is held while anyone waits, and let go again after.
   */
  async #whileJoined(wait: Promise<void>): Promise<void> {
    const handle = this.#handle;
    if (!this.#daemon || !handle) return wait;
    if (this.#joiners++ === 0) handle.ref();
    try {
      await wait;
    } finally {
      if (--this.#joiners === 0 && this.#exitCode === null) handle.unref();
    }
  }

  /** True from start() until the process exits. Python: Process.is_alive */
  isAlive(): boolean {
    if (this.#closed) throw new ValueError('process object is closed');
    return this.#started && this.#exitCode === null;
  }

  /** Sends SIGTERM (ends a thread). Python: Process.terminate */
  terminate(): void {
    this.#signal('SIGTERM');
  }

  /** Sends SIGKILL (ends a thread). Python: Process.kill */
  kill(): void {
    this.#signal('SIGKILL');
  }

  #signal(signal: 'SIGTERM' | 'SIGKILL'): void {
    if (this.#closed) throw new ValueError('process object is closed');
    if (this.#handle) this.#handle.kill(signal);
    else if (this.#startMethod === 'inline' && this.#exitCode === null) {
      // An inline run() cannot be stopped from outside; Python's exit code for it is what a killed child gets.
      process.emitWarning(`forkscope: ${this.#name} runs inline and cannot be ${signal === 'SIGKILL' ? 'killed' : 'terminated'}`);
    }
  }

  /** Releases the process object; it must have exited. Python: Process.close */
  close(): void {
    if (this.#closed) return;
    if (this.#started && this.#exitCode === null)
      throw new ValueError('Cannot close a process while it is still running. You should first call join() or terminate().');
    this.#closed = true;
    this.#handle = undefined;
  }

  /** Python: Process.name */
  get name(): string {
    return this.#name;
  }
  set name(value: string) {
    this.#name = String(value);
  }

  /** Python: Process.daemon */
  get daemon(): boolean {
    return this.#daemon;
  }
  set daemon(value: boolean) {
    if (this.#started) throw new AssertionError('process has already started');
    this.#daemon = Boolean(value);
  }

  /** The OS process id (the parent's pid for a thread); undefined before start(). Python: Process.pid */
  get pid(): number | undefined {
    if (this === self.current) return process.pid;
    return this.#pid;
  }

  /** Python: Process.ident */
  get ident(): number | undefined {
    return this.pid;
  }

  /** The authentication key (32 random bytes in the main process, inherited by children). Python: Process.authkey */
  get authkey(): Buffer {
    return this.#authkey;
  }
  set authkey(value: Uint8Array | string) {
    this.#authkey = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    if (this === self.current || this === mainProcess) self.authkey = this.#authkey;
  }

  /** The worker thread's id for the `thread` start method, else 0. */
  get threadId(): number {
    return this.#threadId;
  }

  /** null while running, 0, n, or -signal. Python: Process.exitcode */
  get exitCode(): number | null {
    if (this.#closed) throw new ValueError('process object is closed');
    return this.#exitCode;
  }

  /** The start method this process uses. */
  get startMethod(): StartMethod {
    return this.#startMethod ?? defaultStartMethod();
  }

  /** A Promise that settles when the process ends, like waiting on Python's sentinel. Python: Process.sentinel */
  get sentinel(): Promise<void> {
    if (!this.#exited) throw new ValueError('process not started');
    return this.#exited;
  }

  /** Used by the child bootstrap: this object is the running process. */
  static _adoptAsCurrent(p: Process, identity: number[]): void {
    p.#identity = identity;
    p.#started = true;
    p.#pid = process.pid;
    p.#threadId = threadId;
  }

  /** Used by the child bootstrap to build a Process from its payload without running user constructors. */
  static _revive(cls: Function | undefined, options: ProcessOptions & { identity: number[] }, fields: Record<string, unknown>): Process {
    const saved = self.counter;
    // The parent's key, before the constructor copies it: a child never makes one of its own (and so does not
    // start the crypto library before its first line).
    if (fields.authkey instanceof Uint8Array) self.authkey = Buffer.from(fields.authkey);
    const p = (cls ? Reflect.construct(Process, [options], cls) : new Process(options)) as Process;
    self.counter = saved;
    Object.assign(p, fields);
    Process._adoptAsCurrent(p, options.identity);
    self.authkey = p.#authkey;
    return p;
  }

  get [Symbol.toStringTag](): string {
    return `Process ${this.#name}`;
  }
}

/** Prints an uncaught error of a child's run(), as Python prints "Process Process-1:" and the traceback. */
export function reportUncaught(name: string, error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  process.stderr.write(`Process ${name}:\n${text}\n`);
}

let mainProcess: Process | undefined;

/**
 * The process object of a process that no Process object started here: the main process (Python's
 * _MainProcess), or a pool worker. One object for the life of the process, alive, with the whole interface.
 */
function mainProcessObject(): Process {
  if (!mainProcess) {
    const counter = self.counter;
    mainProcess = new MainProcess();
    self.counter = counter;
    Process._adoptAsCurrent(mainProcess, self.identity);
  }
  return mainProcess;
}

/** Its name follows the process's own until renamed: a forkserver standby may ask before it knows who it is. */
class MainProcess extends Process {
  #renamed: string | undefined;
  override get name(): string {
    return this.#renamed ?? (self.isMain ? 'MainProcess' : self.name);
  }
  override set name(value: string) {
    this.#renamed = String(value);
  }
  override get daemon(): boolean {
    return self.daemon;
  }
  override set daemon(value: boolean) {
    // As Python's main process config: a daemonic process may not have children.
    self.daemon = Boolean(value);
  }
}

/** The Process object of the caller: the same one at every call (MainProcess in the main process). Python: current_process() */
export function currentProcess(): Process {
  return inlineCurrent.getStore() ?? self.current ?? mainProcessObject();
}

/** The parent of the current process, or null in the main process. Python: parent_process() */
export function parentProcess(): ParentProcess | null {
  if (inlineCurrent.getStore()) return (inlineParent ??= new ParentProcess(mainProcessObject().name, process.pid));
  if (!self.parent) return null;
  return (parent ??= new ParentProcess(self.parent.name, self.parent.pid));
}
let parent: ParentProcess | undefined;
let inlineParent: ParentProcess | undefined;

/**
 * The process that started this one, the same object at every call. Python: multiprocessing.parent_process(), whose
 * is_alive() and join(timeout) watch the parent's sentinel; here the parent is alive while it is still this
 * process's parent (a process whose parent died is re-parented) and answers a signal 0.
 */
export class ParentProcess {
  constructor(
    readonly name: string,
    readonly pid: number,
  ) {}

  /** Python: ident, the same as pid. */
  get ident(): number {
    return this.pid;
  }

  isAlive(): boolean {
    // A worker thread's (or an inline process's) parent is the very process it runs in.
    if (this.pid === process.pid) return true;
    if (process.ppid !== this.pid) return false;
    try {
      process.kill(this.pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  /** Resolves once the parent has exited, or after `timeout` ms. Python: _ParentProcess.join(timeout) */
  async join(options?: number | JoinOptions): Promise<void> {
    const deadline = deadlineOf(readTimeout(options, 'ParentProcess.join', true));
    while (this.isAlive() && (deadline === undefined || Date.now() < deadline)) {
      const left = deadline === undefined ? PARENT_POLL_MS : Math.min(PARENT_POLL_MS, deadline - Date.now());
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, left)));
    }
  }
}
/** How often ParentProcess.join looks: Node has no handle that becomes readable when another process ends. */
const PARENT_POLL_MS = 50;

/** The children of this process that are still alive. Python: active_children() */
export function activeChildren(): Process[] {
  return [...children].filter((c) => c.exitCode === null);
}

/** Number of CPUs. Python: cpu_count() */
export function cpuCount(): number {
  return availableParallelism();
}

/** True in every module of the main process, and only there: the twin of `if __name__ == "__main__"`. */
export function isMainProcess(): boolean {
  return self.isMain && inlineCurrent.getStore() === undefined;
}

/** At exit: daemonic children are terminated (non-daemonic ones kept the program alive until they ended). */
export function terminateDaemonicChildren(): void {
  for (const child of children) {
    if (child.daemon && child.exitCode === null) {
      try {
        child.terminate();
      } catch {
        // Already gone.
      }
    }
  }
}

/** A child exits when run() settles, after joining its non-daemonic children. */
export async function joinNonDaemonicChildren(): Promise<void> {
  for (const child of [...children]) {
    if (!child.daemon && child.exitCode === null) await child.join();
  }
}

atExit(terminateDaemonicChildren);
