// Starts one child (a Node process or a worker thread) on the child bootstrap and wraps it in one
// small handle, so Process and Pool do not care how it was started. Parent side only; Node's modules only.
import { fork, type ChildProcess } from 'node:child_process';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { readFrames, writeFrame } from './frames';
import { WarmSpares } from './warmSpares';
import { ENV } from './protocol';
import { atExit } from './atExit';

/** stdio of a forked child: fd 3 is Node's IPC (start payload, lifeline), fd 4 the framed data pipe. */
export const CHILD_STDIO: ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'] = ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'];
export const DATA_FD = 4;

/** What the bootstrap (spawn.ts, in the child) receives first. */
export interface StartPayload {
  kind: 'process' | 'worker';
  /** The parent's main module, re-imported in the child with isMainProcess() false. */
  main?: string;
  name: string;
  identity: number[];
  daemon: boolean;
  startMethod: 'spawn' | 'thread' | 'forkserver';
  parentKey: string;
  /** The rest is for spawn.ts / pool.ts to read. */
  [key: string]: unknown;
}

export type ExitListener = (exitCode: number, signal: NodeJS.Signals | null) => void;

/** One started child, however it was started. */
export interface ChildHandle {
  readonly pid: number;
  readonly threadId: number;
  /** Throws synchronously when the message cannot be cloned. */
  send(message: unknown, transfer?: TransferListItem[]): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once; `exitCode` is Python's: 0, n, or -signal. */
  onExit(listener: ExitListener): void;
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
  ref(): void;
  unref(): void;
  readonly exited: boolean;
}

let executable: string | undefined;
/** The Node executable children are started with (setExecutable()), else this process's own. */
export function childExecutable(): string {
  return executable ?? process.execPath;
}
/** Python: multiprocessing.set_executable() (see context.ts). */
export function setChildExecutable(path: string | undefined): void {
  executable = path;
}

let childEntry: string | undefined;
/** The built bootstrap: beside index.cjs in dist, or dist/ when this file runs from source. */
export function childEntryPath(): string {
  if (childEntry) return childEntry;
  const candidates = [join(__dirname, 'child.cjs'), join(__dirname, '..', 'dist', 'child.cjs'), join(__dirname, '..', '..', 'dist', 'child.cjs')];
  childEntry = candidates.find((p) => existsSync(p)) ?? candidates[0];
  return childEntry;
}

function signalExitCode(signal: NodeJS.Signals): number {
  return -((constants.signals as Record<string, number>)[signal] ?? 1);
}

function forkChild(execArgv: string[]): ChildProcess {
  return fork(childEntryPath(), [], { execPath: childExecutable(), execArgv, serialization: 'advanced', stdio: CHILD_STDIO });
}

/** What a spawned child inherits from this process at fork time (and the executable it runs): a spare forked under another one is stale. */
function inherited(): string {
  return `${childExecutable()}\0${process.cwd()}\0${JSON.stringify(process.env)}`;
}

interface SpawnSpare {
  child: ChildProcess;
  inherited: string;
  ready: boolean;
}

/** What a spare child says once it has booted (spawn.ts); never reaches the program. */
export const SPARE_READY = 'spare-ready';
const isSpareReady = (m: unknown): boolean => (m as { t?: unknown } | null)?.t === SPARE_READY;

/**
 * Warm "spawn" children: a fresh Node that has booted, opened its IPC and loaded the runtime (child.cjs), and
 * waits for its payload. Nothing of the program has run in it: the payload still brings the main module's
 * import, as a cold spawn does, so start() → run() no longer pays for booting Node. As many as recent demand
 * asks for, none once idle (warmSpares.ts); none while debugging (a debugger would list each spare). A spare
 * forked before the program changed its environment or working directory is not used.
 */
const spawnSpares = new WarmSpares<SpawnSpare>({
  warm() {
    const child = forkChild(process.execArgv);
    // A spare never keeps the program alive.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    (child.stdio[DATA_FD] as { unref?: () => void } | null)?.unref?.();
    child.on('error', () => {});
    const spare: SpawnSpare = { child, inherited: inherited(), ready: false };
    child.once('exit', () => spawnSpares.forget(spare));
    const onReady = (m: unknown): void => {
      if (!isSpareReady(m)) return;
      child.off('message', onReady);
      spare.ready = true;
      spawnSpares.readied();
    };
    child.on('message', onReady);
    // Answered once the child has loaded the runtime and listens for its payload.
    child.send({ t: 'ping', main: spawnMain });
    if (!sparesExitHook) {
      sparesExitHook = true;
      atExit(() => spawnSpares.stop());
    }
    return spare;
  },
  usable: ({ child }) => child.exitCode === null && child.signalCode === null && child.connected,
  ready: (spare) => spare.ready,
  discard: ({ child }) => killSpare(child),
});
let sparesExitHook = false;
/** The program's main module, for spares to look up its TypeScript ahead (spawn.ts). */
let spawnMain: string | undefined;

function killSpare(child: ChildProcess): void {
  try {
    child.kill('SIGKILL');
  } catch {
    // Already gone.
  }
}

function takeSpawnSpare(): ChildProcess | undefined {
  const spare = spawnSpares.take();
  if (!spare) return undefined;
  if (spare.inherited === inherited()) return spare.child;
  // The program changed its environment or directory since: every spare is stale.
  killSpare(spare.child);
  spawnSpares.stop();
  return undefined;
}

/**
 * Starts a child process on the bootstrap and sends it the payload as its first message. `spares`: a warm spare
 * may take the start and demand sizes the spares behind it; a pool's workers start cold (warming spares beside a
 * pool's first tasks only took CPU from them: a pool.map ran at 0.7x).
 */
export function spawnChild(payload: StartPayload, transfer: TransferListItem[] = [], spares = true): ChildHandle {
  spawnMain = payload.main;
  const warm = spares && process.env[ENV.debug] !== '1' ? takeSpawnSpare() : undefined;
  const child = warm ?? forkChild(process.execArgv);
  if (warm) {
    warm.ref();
    (warm.channel as { ref?: () => void } | undefined)?.ref?.();
  }
  const handle = wrapChildProcess(child);
  void transfer;
  child.send(payload as never);
  return handle;
}

/** Wraps a forked child (also a forkserver standby) as a handle. */
export function wrapChildProcess(child: ChildProcess): ChildHandle {
  let exited = false;
  const exitListeners: ExitListener[] = [];
  const messageListeners: Array<(m: unknown) => void> = [];
  const deliver = (m: unknown): void => {
    if (isSpareReady(m)) return;
    for (const l of messageListeners) l(m);
  };
  child.on('message', deliver);
  const data = child.stdio[DATA_FD] as Duplex | null | undefined;
  if (data) {
    // The process handle carries liveness; the data pipe never keeps the parent alive by itself.
    (data as Duplex & { unref?: () => void }).unref?.();
    data.on('error', () => {});
    readFrames(data, deliver);
  }
  // A failed send (the child already gone) is reported by 'exit'; this keeps it from crashing the parent.
  child.on('error', () => {});
  child.once('exit', (code, signal) => {
    exited = true;
    const exitCode = signal ? signalExitCode(signal) : (code ?? 1);
    for (const l of exitListeners) l(exitCode, signal);
  });
  return {
    get pid() {
      return child.pid ?? 0;
    },
    threadId: 0,
    send(message) {
      if (exited) return;
      if (data) writeFrame(data, message);
      else if (child.connected) child.send(message as never);
    },
    onMessage(listener) {
      messageListeners.push(listener);
    },
    onExit(listener) {
      exitListeners.push(listener);
    },
    kill(signal) {
      if (!exited) child.kill(signal);
    },
    ref() {
      child.ref();
      (child.channel as { ref?: () => void } | undefined)?.ref?.();
    },
    unref() {
      child.unref();
      (child.channel as { unref?: () => void } | undefined)?.unref?.();
    },
    get exited() {
      return exited;
    },
  };
}

let threadMain: string | undefined;
const endedThreads = new WeakSet<Worker>();
/**
 * Warm threads that have loaded the runtime (and the TypeScript loader) and wait for a payload: a thread's
 * start is then one message, not a runtime load. The program's module loads only once the payload comes,
 * so a spare never used has run none of the program's code. None while debugging, where a debugger would
 * list each spare as a thread of the program.
 */
const readyThreads = new WeakSet<Worker>();
const threadSpares = new WarmSpares<Worker>({
  warm() {
    const worker = new Worker(childEntryPath(), { workerData: { t: 'standby', main: threadMain }, stdout: false, stderr: false });
    worker.unref();
    const onReady = (m: unknown): void => {
      if (!isSpareReady(m)) return;
      worker.off('message', onReady);
      readyThreads.add(worker);
      threadSpares.readied();
    };
    worker.on('message', onReady);
    worker.on('error', () => {});
    worker.once('exit', () => {
      endedThreads.add(worker);
      threadSpares.forget(worker);
    });
    return worker;
  },
  usable: (worker) => !endedThreads.has(worker),
  ready: (worker) => readyThreads.has(worker),
  discard: (worker) => void worker.terminate(),
});

/** Starts a worker thread on the same bootstrap: a warm spare takes the payload as a message, a new one as workerData. */
export function startThread(payload: StartPayload, transfer: TransferListItem[] = []): ChildHandle {
  threadMain = payload.main;
  const spare = process.env[ENV.debug] === '1' ? undefined : threadSpares.take();
  const worker = spare ?? new Worker(childEntryPath(), { workerData: payload, transferList: transfer, stdout: false, stderr: false });
  if (spare) {
    spare.ref();
    spare.postMessage(payload, transfer);
  }
  let exited = false;
  let killedWith: NodeJS.Signals | null = null;
  const exitListeners: ExitListener[] = [];
  const messageListeners: Array<(m: unknown) => void> = [];
  worker.on('message', (m) => {
    if (isSpareReady(m)) return;
    for (const l of messageListeners) l(m);
  });
  // An uncaught error ends the thread with code 1, as an uncaught error ends a process; 'exit' reports it.
  worker.on('error', (error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  });
  worker.once('exit', (code) => {
    exited = true;
    const exitCode = killedWith ? signalExitCode(killedWith) : code;
    for (const l of exitListeners) l(exitCode, killedWith);
  });
  return {
    pid: process.pid,
    threadId: worker.threadId,
    send(message, transferList) {
      worker.postMessage(message, transferList);
    },
    onMessage(listener) {
      messageListeners.push(listener);
    },
    onExit(listener) {
      exitListeners.push(listener);
    },
    kill(signal) {
      if (exited) return;
      killedWith ??= signal;
      void worker.terminate();
    },
    ref() {
      worker.ref();
    },
    unref() {
      worker.unref();
    },
    get exited() {
      return exited;
    },
  };
}
