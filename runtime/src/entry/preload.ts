// The `NODE_OPTIONS=--require …/preload.cjs` preload: makes programs that do not use the runtime
// visible (child_process, cluster, worker_threads, their IPC as pipe traffic), in every Node process
// and worker of a session. Node's own modules only; bundles its own telemetry copy, which shares one
// connection with the runtime's through a global (see telemetry.ts).
import * as childProcess from 'node:child_process';
import * as workerThreads from 'node:worker_threads';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';
import { constants } from 'node:os';
import { ENV, FRAME_HEADER_BYTES, PROTOCOL_VERSION, processKey, type Hello, type ProcessKey } from '../protocol';
import * as telemetry from '../telemetry';
import { openInspectorIfDebugging, waitForDebuggerIfOpened } from '../inspector';
import { isInternalThread } from '../internalThreads';
import { explainModuleKindErrors } from '../moduleKindHint';

const PATCHED = Symbol.for('forkscope.preload.v1');
/** Set (only in a new thread's copy of the environment) when the thread runs the runtime's child bootstrap. */
const RUNTIME_THREAD_ENV = ENV.runtimeThread;
/** Bytes counted for one IPC message: a JSON length estimate, capped so counting stays cheap. */
const MAX_MEASURED = 64 * 1024;

function install(): void {
  const flags = globalThis as Record<symbol, unknown>;
  if (flags[PATCHED] || !telemetry.isReporting()) return;
  // Node's internal threads (the module loader's hooks thread) have no parentPort: not the program's.
  if (!workerThreads.isMainThread && !workerThreads.parentPort) return;
  // esbuild's synchronous service thread (tsx compiling a .ts file on a cold cache) is a tool's, not the program's.
  if (!workerThreads.isMainThread && isEsbuildServiceData(workerThreads.workerData)) return;
  flags[PATCHED] = true;
  // The program's main process: a load failure that is only a question of module kind gets one line saying what to do.
  if (workerThreads.isMainThread && !process.env[ENV.parent]) explainModuleKindErrors();

  const self = telemetry.selfKey();
  const parentFromEnv = process.env[ENV.parent] || undefined;
  // Children of this process (and threads it starts) learn who started them.
  process.env[ENV.parent] = self;
  const identity: Pick<Hello, 'name' | 'role' | 'startMethod'> & { parent?: ProcessKey } = workerThreads.isMainThread
    ? parentFromEnv === undefined
      ? { name: 'MainProcess', role: 'main', startMethod: 'spawn' }
      : { name: scriptName(process.argv), role: 'external', startMethod: 'spawn', parent: parentFromEnv }
    : { name: `Thread-${workerThreads.threadId}`, role: 'external', startMethod: 'thread', parent: parentFromEnv ?? String(process.pid) };

  // The runtime's own children (child.cjs, manager.cjs) say who they are and wait for their debugger
  // themselves, with their real names: the preload only watches what they spawn.
  const runtimeEntry = /(^|[\\/])(child|manager)\.(cjs|ts)$/.test(process.argv[1] ?? '') && workerThreads.isMainThread;

  // ---- debugger hook (issue 6): open the inspector before the hello, wait for the debugger after it.
  const inspectorUrl = runtimeEntry ? undefined : openInspectorIfDebugging();
  if (inspectorUrl) {
    // The wait below blocks this thread, so the hello must be out first: a helper thread sends it
    // while this one sleeps on a shared flag.
    announceSync({ ...identity, inspectorUrl });
    // The program's main process ends with whoever runs it (launcher, terminal, CLI); one it spawned may not.
    waitForDebuggerIfOpened({ endsWithParent: identity.role === 'main' });
  }
  // A worker thread is reported by the thread that starts it (see patchWorkers); its own connection
  // opens only if it reports something. Node's internal threads (loader hooks) thus stay out of the tree.
  if (!runtimeEntry && workerThreads.isMainThread) void telemetry.connect(inspectorUrl ? { ...identity, inspectorUrl } : identity);

  patchChildProcess(self);
  patchWorkers();
  // The runtime's own processes and threads report their traffic themselves, and measuring every
  // message of theirs here would only cost them time.
  const runtimeThread = !workerThreads.isMainThread && process.env[RUNTIME_THREAD_ENV] === '1';
  if (!runtimeEntry && !runtimeThread) {
    countOwnIpc();
    countPortSends();
  }
}

function scriptName(argv: string[]): string {
  const script = argv[1];
  return script ? basename(script) : 'node';
}

/** Every ChildProcess (spawn, fork, exec, cluster) goes through ChildProcess.prototype.spawn. */
function patchChildProcess(self: ProcessKey): void {
  const proto = childProcess.ChildProcess.prototype as unknown as { spawn: (this: childProcess.ChildProcess, options: unknown) => unknown };
  const original = proto.spawn;
  proto.spawn = function (this: childProcess.ChildProcess, options: unknown) {
    const result = original.call(this, options);
    try {
      if (this.pid !== undefined) watchChild(this, self);
    } catch {
      // Reporting never breaks the program's own spawn.
    }
    return result;
  };
}

function watchChild(child: childProcess.ChildProcess, self: ProcessKey): void {
  const pid = child.pid!;
  const key = processKey(pid);
  const args = child.spawnargs;
  const isNode = args[0] === process.execPath || /(^|[/\\])node(\.exe)?$/.test(args[0] ?? '');
  const script = isNode ? args.slice(1).find((a) => !a.startsWith('-')) : undefined;
  const name = script ? basename(script) : basename(args[0] ?? child.spawnfile ?? 'child');
  telemetry.emitNow({ t: 'child.start', ts: Date.now(), key, pid, threadId: 0, name, startMethod: 'spawn', role: 'external' });
  child.once('exit', (code, signal) => {
    telemetry.emitNow({ t: 'child.exit', ts: Date.now(), key, exitCode: signal ? -(constants.signals[signal] ?? 0) : code, signal });
  });
  // The runtime's own children (child.cjs, manager.cjs) report their traffic themselves; their IPC is bootstrap only.
  const runtimeChild = script !== undefined && /(^|[\\/])(child|manager)\.(cjs|ts)$/.test(script);
  if (typeof child.send === 'function' && child.connected && !runtimeChild) {
    const id = `ipc-${pid}`;
    telemetry.emitNow({ t: 'object', ts: Date.now(), id, kind: 'Channel', label: `IPC ${name} (${pid})` });
    countSends(child, id, key);
    countReceipts(child, id, key);
  }
  void self;
}

/** worker_threads.Worker, replaced by a subclass that reports the thread and counts postMessage. */
function patchWorkers(): void {
  const Original = workerThreads.Worker;
  class Worker extends Original {
    constructor(...args: ConstructorParameters<typeof Original>) {
      const isInternal = isInternalThread(args) || isEsbuildServiceData(args[1]?.workerData);
      // A thread running the runtime's bootstrap is told so through its copy of the environment.
      const runtime = /(^|[\\/])child\.(cjs|ts)$/.test(String(args[0] instanceof URL ? args[0].pathname : args[0]));
      const before = process.env[RUNTIME_THREAD_ENV];
      if (runtime) process.env[RUNTIME_THREAD_ENV] = '1';
      else delete process.env[RUNTIME_THREAD_ENV];
      try {
        super(...args);
      } finally {
        if (before === undefined) delete process.env[RUNTIME_THREAD_ENV];
        else process.env[RUNTIME_THREAD_ENV] = before;
      }
      if (isInternal) return; // the runtime's own helper thread, not the program's
      try {
        const key = processKey(process.pid, this.threadId);
        const parent = telemetry.selfKey();
        telemetry.emitNow({ t: 'child.start', ts: Date.now(), key, pid: process.pid, threadId: this.threadId, name: `Thread-${this.threadId}`, startMethod: 'thread', role: 'external' });
        this.once('exit', (code: number) => telemetry.emitNow({ t: 'child.exit', ts: Date.now(), key, exitCode: code, signal: null }));
        const id = `port-${process.pid}-${this.threadId}`;
        telemetry.emitNow({ t: 'object', ts: Date.now(), id, kind: 'Channel', label: `worker ${this.threadId} of ${parent}` });
        // worker.postMessage posts on the worker's own MessagePort: attribute that port to this channel.
        for (const symbol of Object.getOwnPropertySymbols(this)) {
          const value = (this as unknown as Record<symbol, unknown>)[symbol];
          if (value instanceof workerThreads.MessagePort) portChannels.set(value, { id, peer: key });
        }
        countReceipts(this, id, key);
      } catch {
        // see patchChildProcess
      }
    }
  }
  Object.defineProperty(Worker, 'name', { value: 'Worker' });
  // The CommonJS module object, which is mutable (an ES namespace import is not).
  const mutable = require('node:worker_threads') as { Worker: typeof Original };
  mutable.Worker = Worker;
  // `import { Worker } from 'node:worker_threads'` reads the builtin's ESM face: bring it up to date.
  syncBuiltinESMExports();
}

/**
 * esbuild's `transformSync` runs on a worker thread of its own, started with `workerData.esbuildVersion`.
 * tsx calls it whenever its cache lacks a compiled .ts file (a fresh machine, a cleared cache), so without
 * this check a cold cache showed an extra `Thread-N` row and an empty channel under every child.
 */
function isEsbuildServiceData(data: unknown): boolean {
  return typeof data === 'object' && data !== null && typeof (data as { esbuildVersion?: unknown }).esbuildVersion === 'string';
}

/** This process's own end of its IPC channel (process.send) or its worker port (parentPort). */
function countOwnIpc(): void {
  if (workerThreads.isMainThread) {
    if (typeof process.send !== 'function') return;
    const id = `ipc-${process.pid}`;
    countSends(process, id, String(process.ppid));
    countReceipts(process, id, String(process.ppid));
  }
}

/** Which channel a MessagePort's messages belong to: a worker's port, the parentPort, else the thread's own. */
const portChannels = new WeakMap<object, { id: string; peer?: ProcessKey }>();

/**
 * Counts every MessagePort send (worker.postMessage, parentPort.postMessage, and ports of their own such
 * as piscina's). Receipts are counted by the sending side, or by a Worker's 'message' event: a listener on
 * a port would start it and keep a thread alive.
 */
function countPortSends(): void {
  // In a worker, every port it posts on talks to its parent's side (parentPort, or a pool's own port
  // such as piscina's). In a main thread only a Worker's own port is known: other ports there belong
  // to anything (tsx's loader talks to its hooks thread over one), so they are not counted.
  let own: { id: string; peer?: ProcessKey } | undefined;
  if (!workerThreads.isMainThread) {
    const parent = process.env[ENV.parent] || String(process.pid);
    own = { id: `port-${process.pid}-${workerThreads.threadId}`, peer: parent };
  }
  const proto = workerThreads.MessagePort.prototype as unknown as { postMessage: (...args: unknown[]) => void };
  const original = proto.postMessage;
  proto.postMessage = function (this: object, message: unknown, ...rest: unknown[]) {
    try {
      const channel = portChannels.get(this) ?? own;
      if (channel) telemetry.emit({ t: 'pipe', ts: Date.now(), id: channel.id, sent: 1, received: 0, bytesSent: measure(message), bytesReceived: 0, ...(channel.peer !== undefined ? { peer: channel.peer } : {}), previews: [telemetry.preview(message)] });
    } catch {
      // counting never breaks sending
    }
    return original.call(this, message, ...rest);
  };
}

function countSends(target: object, id: string, peer: ProcessKey, method: 'send' | 'postMessage' = 'send'): void {
  const holder = target as Record<string, unknown>;
  const original = holder[method];
  if (typeof original !== 'function') return;
  holder[method] = function (this: unknown, message: unknown, ...rest: unknown[]) {
    try {
      telemetry.emit({ t: 'pipe', ts: Date.now(), id, sent: 1, received: 0, bytesSent: measure(message), bytesReceived: 0, peer, previews: [telemetry.preview(message)] });
    } catch {
      // counting never breaks sending
    }
    return (original as (...a: unknown[]) => unknown).call(this, message, ...rest);
  };
}

/**
 * Receipts are counted by wrapping `emit`, never by adding a 'message' listener: a listener on
 * `process` would ref the IPC channel and keep a child alive that would otherwise exit.
 */
function countReceipts(target: object, id: string, peer: ProcessKey): void {
  const emitter = target as { emit: (event: string | symbol, ...args: unknown[]) => boolean };
  const original = emitter.emit;
  emitter.emit = function (this: unknown, event: string | symbol, ...args: unknown[]) {
    if (event === 'message') {
      try {
        telemetry.emit({ t: 'pipe', ts: Date.now(), id, sent: 0, received: 1, bytesSent: 0, bytesReceived: measure(args[0]), peer });
      } catch {
        // see countSends
      }
    }
    return original.call(this, event, ...args);
  };
}

function measure(message: unknown): number {
  if (typeof message === 'string') return Buffer.byteLength(message.length > MAX_MEASURED ? message.slice(0, MAX_MEASURED) : message);
  if (ArrayBuffer.isView(message)) return message.byteLength;
  try {
    const json = JSON.stringify(message);
    return json === undefined ? 0 : Buffer.byteLength(json);
  } catch {
    return 0;
  }
}

/**
 * Says hello synchronously: a short-lived helper process connects, sends the hello (marked announce-only,
 * since its connection closes at once) and waits for the welcome, while this thread waits for it. Not a
 * helper thread: this thread then blocks in waitForDebugger and cannot reap one, so the debugger would list
 * it as one more thread of the program, "Running" for ever in the Call Stack.
 */
function announceSync(who: Pick<Hello, 'name' | 'role' | 'startMethod' | 'inspectorUrl'> & { parent?: ProcessKey }): void {
  const hello: Hello = { t: 'hello', v: PROTOCOL_VERSION, token: process.env[ENV.token]!, pid: process.pid, ppid: process.ppid, threadId: workerThreads.threadId, ...who, announceOnly: true };
  const source = `
const net = require('node:net');
const { address, hello } = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const socket = net.createConnection(address);
const body = Buffer.from(JSON.stringify(hello));
const header = Buffer.alloc(${FRAME_HEADER_BYTES});
header.writeUInt32BE(body.length, 0);
socket.on('error', () => process.exit(0));
socket.on('data', () => { socket.end(); process.exit(0); });
socket.write(Buffer.concat([header, body]));
setTimeout(() => process.exit(0), 2000);`;
  // No preload, loader or inspector flags in the helper: it must not announce itself or wait for a debugger.
  childProcess.spawnSync(process.execPath, ['-e', source], { input: JSON.stringify({ address: process.env[ENV.hub], hello }), env: {}, stdio: ['pipe', 'ignore', 'ignore'], timeout: 3_000 });
}

install();
