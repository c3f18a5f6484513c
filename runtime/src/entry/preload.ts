// The `NODE_OPTIONS=--require …/preload.cjs` preload: makes programs that do not use the runtime
// visible (child_process, cluster, worker_threads, their IPC as pipe traffic), in every Node process
// and worker of a session. Node's own modules only; bundles its own telemetry copy, which shares one
// connection with the runtime's through a global (see telemetry.ts).
import * as childProcess from 'node:child_process';
import * as workerThreads from 'node:worker_threads';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';
import { constants } from 'node:os';
import { ENV, PROTOCOL_VERSION, processKey, type Hello, type ProcessKey } from '../protocol';
import { jsonFrame } from '../framing';
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
  // A runtime child debugged waits for its debugger later, blocked: a signal listener there would defer Ctrl+C until it is attached.
  if (workerThreads.isMainThread) reportOwnEnd(self, !(runtimeEntry && process.env[ENV.debug] === '1'));
  // The runtime's own processes and threads report their traffic themselves, and measuring every
  // message of theirs here would only cost them time.
  const runtimeThread = !workerThreads.isMainThread && process.env[RUNTIME_THREAD_ENV] === '1';
  if (!runtimeEntry && !runtimeThread) {
    countOwnIpc();
    countPortSends(parentFromEnv ?? String(process.pid));
  }
}

/**
 * Every process says how it ended, and sends what it still holds first: its parent may be gone (a
 * cluster stopped with Ctrl+C, a manager outliving its program), and a batch not yet sent would be lost.
 * A signal the program does not handle itself is caught only to do that, then raised again, so the
 * process still dies by it.
 */
function reportOwnEnd(self: ProcessKey, catchSignals: boolean): void {
  let reported = false;
  const end = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
    if (reported) return;
    reported = true;
    telemetry.emitNow({ t: 'child.exit', ts: Date.now(), key: self, exitCode, signal });
    void telemetry.flush();
  };
  process.on('exit', (code) => end(code, null));
  if (!catchSignals) return;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      // The program has its own handler: it decides whether this ends it ('exit' tells).
      if (process.listenerCount(signal) > 1) return void telemetry.flush();
      end(-(constants.signals[signal] ?? 0), signal);
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
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
  // The runtime's own children (child.cjs, manager.cjs) report their traffic themselves; their IPC is bootstrap only.
  const runtimeChild = script !== undefined && /(^|[\\/])(child|manager)\.(cjs|ts)$/.test(script);
  // A `Process` or pool worker (child.cjs) is started, and seen to end, by the runtime, which reports both
  // with its real name: one start and one exit per process.
  const reportedByRuntime = script !== undefined && /(^|[\\/])child\.(cjs|ts)$/.test(script);
  if (!reportedByRuntime) {
    telemetry.emitNow({ t: 'child.start', ts: Date.now(), key, pid, threadId: 0, name, startMethod: 'spawn', role: 'external' });
    child.once('exit', (code, signal) => {
      telemetry.emitNow({ t: 'child.exit', ts: Date.now(), key, exitCode: signal ? -(constants.signals[signal] ?? 0) : code, signal });
    });
  }
  if (typeof child.send === 'function' && child.connected && !runtimeChild) {
    const id = `ipc-${pid}`;
    telemetry.emitNow({ t: 'object', ts: Date.now(), id, kind: 'Channel', label: `IPC ${name} (${pid})` });
    countSends(child, id, key);
    countReceipts(child, id, key);
  }
  void self;
}

/** worker_threads.Worker, replaced by a subclass that reports the thread and counts its messages. */
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
      // The new thread adds what it sends to these shared counters, read here: a thread that is
      // terminated (as pools end theirs) cannot flush its own reports, and it needs no connection.
      const counters = new SharedArrayBuffer(COUNTER_BYTES);
      const held = workerThreads.getEnvironmentData(COUNTERS_KEY);
      workerThreads.setEnvironmentData(COUNTERS_KEY, counters);
      try {
        super(...args);
      } finally {
        if (before === undefined) delete process.env[RUNTIME_THREAD_ENV];
        else process.env[RUNTIME_THREAD_ENV] = before;
        workerThreads.setEnvironmentData(COUNTERS_KEY, held as never);
      }
      // The thread's own ports (Node's internal one carries stdio and errors) are never the program's traffic.
      for (const symbol of Object.getOwnPropertySymbols(this)) {
        const value = (this as unknown as Record<symbol, unknown>)[symbol];
        if (value instanceof workerThreads.MessagePort) notProgramPorts.add(value);
      }
      // The runtime's own helper thread is not the program's; a runtime thread (a `Process` or pool
      // worker started as a thread) is reported, start, exit and traffic, by the runtime itself.
      if (isInternal || runtime) return;
      try {
        const key = processKey(process.pid, this.threadId);
        const parent = telemetry.selfKey();
        const id = `port-${process.pid}-${this.threadId}`;
        const channel: PortChannel = { id, peer: key };
        if (countingPorts) workerChannels.set(this, channel);
        telemetry.emitNow({
          t: 'child.start',
          ts: Date.now(),
          key,
          pid: process.pid,
          threadId: this.threadId,
          name: `Thread-${this.threadId}`,
          startMethod: 'thread',
          role: 'external',
        });
        telemetry.emitNow({ t: 'object', ts: Date.now(), id, kind: 'Channel', label: `worker ${this.threadId} of ${parent}` });
        linkTransferred(args[1]?.transferList, channel);
        const read = threadSends(counters, channel, this);
        const unhook = telemetry.beforeFlush(read);
        this.once('exit', (code: number) => {
          read();
          unhook();
          telemetry.emitNow({ t: 'child.exit', ts: Date.now(), key, exitCode: code, signal: null });
        });
      } catch {
        // see patchChildProcess
      }
    }

    override postMessage(value: unknown, transferList?: unknown): void {
      try {
        const channel = workerChannels.get(this);
        if (channel) {
          reportSent(channel.id, channel.peer, value);
          linkTransferred(transferList, channel);
        }
      } catch {
        // counting never breaks sending
      }
      return super.postMessage(value, transferList as never);
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
 * What a thread sent, from its shared counters: reported by the thread that started it, as received
 * from it. The last message seen from the thread gives the preview (one per flush, not one per message).
 */
function threadSends(counters: SharedArrayBuffer, channel: PortChannel, worker: workerThreads.Worker): () => void {
  const messages = new Int32Array(counters, 0, 1);
  const bytes = new Float64Array(counters, 8, 1);
  let seenMessages = 0;
  let seenBytes = 0;
  // Messages the Worker object emitted: what counts when the thread cannot count (its environment was
  // replaced, so the preload is not in it); otherwise never more than its own count, which includes them.
  let emitted = 0;
  let last: { message: unknown } | undefined;
  const emitter = worker as unknown as { emit: (event: string | symbol, ...args: unknown[]) => boolean };
  const original = emitter.emit;
  // Wrapping `emit`, not adding a listener: a 'message' listener would change how the program's worker behaves.
  emitter.emit = function (this: unknown, event: string | symbol, ...args: unknown[]) {
    if (event === 'message') {
      emitted++;
      last = { message: args[0] };
    }
    return original.call(this, event, ...args);
  };
  return () => {
    const m = Math.max(Atomics.load(messages, 0), emitted);
    const b = bytes[0]!;
    if (m === seenMessages && last === undefined) return;
    const preview = last ? [telemetry.preview(last.message)] : undefined;
    last = undefined;
    telemetry.emit({
      t: 'pipe',
      ts: Date.now(),
      id: channel.id,
      sent: 0,
      received: m - seenMessages,
      bytesSent: 0,
      bytesReceived: b - seenBytes,
      peer: channel.peer,
      ...(preview ? { previews: preview } : {}),
    });
    seenMessages = m;
    seenBytes = b;
  };
}

/** A program port sent to a thread: what this side then posts on its partner is traffic with that thread. */
function linkTransferred(transferList: unknown, channel: PortChannel): void {
  const list = Array.isArray(transferList) ? transferList : (transferList as { transfer?: unknown } | undefined)?.transfer;
  if (!Array.isArray(list)) return;
  for (const item of list) {
    if (!(item instanceof workerThreads.MessagePort)) continue;
    const partner = partners.get(item);
    if (partner) portChannels.set(partner, channel);
  }
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

interface PortChannel {
  id: string;
  peer: ProcessKey;
  /** Declared to the hub on its first message: a channel whose end goes to a thread at once never shows empty. */
  label?: string;
}
/** Bytes of a thread's shared counters: messages (Int32) at 0, bytes (Float64) at 8. */
const COUNTER_BYTES = 16;
/** The environment-data key under which a new thread finds its shared counters. */
const COUNTERS_KEY = 'forkscope.portCounters.v1';
/** Which channel a program port's sends belong to: a thread's it was sent to, else its own channel's. */
const portChannels = new WeakMap<object, PortChannel>();
/** The two ends of each MessageChannel the program made. */
const partners = new WeakMap<object, object>();
/** Ports of Node's and of tools (a Worker's own ports, stdio's, tsx's loader channel): never counted. */
const notProgramPorts = new WeakSet<object>();
/** The channel of each Worker this thread started. */
const workerChannels = new WeakMap<object, PortChannel>();
/** Off in the runtime's own processes and threads, which report their traffic themselves. */
let countingPorts = false;

/**
 * Counts the program's messages, each once, by the sending side (a receipt is never counted: a
 * listener on a port would start it and keep a thread alive): `worker.postMessage` in the Worker
 * class; in a thread, everything it posts on a port of the program's (parentPort, ports it was sent)
 * into the counters its parent reads; elsewhere, ports of the program's own MessageChannels.
 */
function countPortSends(parent: ProcessKey): void {
  countingPorts = true;
  const self = telemetry.selfKey();
  let counters: { messages: Int32Array; bytes: Float64Array } | undefined;
  let own: PortChannel | undefined;
  if (!workerThreads.isMainThread) {
    const shared = workerThreads.getEnvironmentData(COUNTERS_KEY);
    if (shared instanceof SharedArrayBuffer && shared.byteLength >= COUNTER_BYTES)
      counters = { messages: new Int32Array(shared, 0, 1), bytes: new Float64Array(shared, 8, 1) };
    // A thread whose parent has no counters for it (started where the preload was not) reports itself.
    else own = { id: `port-${process.pid}-${workerThreads.threadId}`, peer: parent };
    // Node's internal port (stdio, errors) is held by the stdio streams.
    for (const stream of [process.stdout, process.stderr, process.stdin]) {
      for (const symbol of Object.getOwnPropertySymbols(stream)) {
        const value = (stream as unknown as Record<symbol, unknown>)[symbol];
        if (value instanceof workerThreads.MessagePort) notProgramPorts.add(value);
      }
    }
  }
  patchMessageChannel(self);
  const proto = workerThreads.MessagePort.prototype as unknown as { postMessage: (...args: unknown[]) => void };
  const original = proto.postMessage;
  proto.postMessage = function (this: object, message: unknown, ...rest: unknown[]) {
    try {
      if (!notProgramPorts.has(this)) {
        const channel = portChannels.get(this);
        if (channel?.label !== undefined) {
          telemetry.emitNow({ t: 'object', ts: Date.now(), id: channel.id, kind: 'Channel', label: channel.label });
          delete channel.label;
        }
        if (channel) reportSent(channel.id, channel.peer, message);
        else if (counters) {
          Atomics.add(counters.messages, 0, 1);
          counters.bytes[0] = counters.bytes[0]! + measure(message);
        } else if (own) reportSent(own.id, own.peer, message);
      }
    } catch {
      // counting never breaks sending
    }
    return original.call(this, message, ...rest);
  };
}

/**
 * MessageChannel, replaced by a subclass that knows the program's channels: each is a channel of this
 * thread until one end is sent to a thread. Channels made by tools (tsx's loader) are not the program's.
 */
function patchMessageChannel(self: ProcessKey): void {
  const Original = workerThreads.MessageChannel;
  let next = 0;
  class MessageChannel extends Original {
    constructor() {
      super();
      try {
        if (isToolSite(new Error().stack)) {
          notProgramPorts.add(this.port1);
          notProgramPorts.add(this.port2);
          return;
        }
        partners.set(this.port1, this.port2);
        partners.set(this.port2, this.port1);
        // In a thread, its own channels' traffic goes to its parent's counters (see countPortSends).
        if (!workerThreads.isMainThread) return;
        const channel: PortChannel = { id: `port-${process.pid}-${workerThreads.threadId}-${next++}`, peer: self, label: `MessageChannel in ${self}` };
        portChannels.set(this.port1, channel);
        portChannels.set(this.port2, channel);
      } catch {
        // see patchChildProcess
      }
    }
  }
  Object.defineProperty(MessageChannel, 'name', { value: 'MessageChannel' });
  const mutable = require('node:worker_threads') as { MessageChannel: typeof Original };
  mutable.MessageChannel = MessageChannel;
  (globalThis as { MessageChannel: unknown }).MessageChannel = MessageChannel;
  syncBuiltinESMExports();
}

/** The constructor's caller is a tool's code (a TypeScript loader), not the program's. */
function isToolSite(stack: string | undefined): boolean {
  // Lines: the message, this constructor, then its caller. Deeper frames do not count: a program's own
  // module is run from inside its loader's frames.
  const caller = (stack ?? '').split('\n')[2] ?? '';
  return /[\\/]node_modules[\\/](tsx|esbuild|forkscope)[\\/]|\(node:internal|at node:internal/.test(caller);
}

/** One message this thread sent on channel `id` to `peer`. */
function reportSent(id: string, peer: ProcessKey, message: unknown): void {
  telemetry.emit({
    t: 'pipe',
    ts: Date.now(),
    id,
    sent: 1,
    received: 0,
    bytesSent: measure(message),
    bytesReceived: 0,
    peer,
    previews: [telemetry.preview(message)],
  });
}

function countSends(target: object, id: string, peer: ProcessKey, method: 'send' | 'postMessage' = 'send'): void {
  const holder = target as Record<string, unknown>;
  const original = holder[method];
  if (typeof original !== 'function') return;
  holder[method] = function (this: unknown, message: unknown, ...rest: unknown[]) {
    try {
      if (!isNodeInternalMessage(message)) reportSent(id, peer, message);
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

/** Node's own IPC (cluster's `{ cmd: 'NODE_CLUSTER' }`, handle passing): Node's test, not the program's traffic. */
function isNodeInternalMessage(message: unknown): boolean {
  const cmd = (message as { cmd?: unknown } | null)?.cmd;
  return typeof cmd === 'string' && cmd.startsWith('NODE_');
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
 * it as one more thread of the program, "Running" for ever in the Call Stack. The frame is made here (framing.ts):
 * the helper, a `node -e` script with no module of ours, only writes its bytes.
 */
function announceSync(who: Pick<Hello, 'name' | 'role' | 'startMethod' | 'inspectorUrl'> & { parent?: ProcessKey }): void {
  const hello: Hello = {
    t: 'hello',
    v: PROTOCOL_VERSION,
    token: process.env[ENV.token]!,
    pid: process.pid,
    ppid: process.ppid,
    threadId: workerThreads.threadId,
    ...who,
    announceOnly: true,
  };
  const source = `
const net = require('node:net');
const { address, frame } = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const socket = net.createConnection(address);
socket.on('error', () => process.exit(0));
socket.on('data', () => { socket.end(); process.exit(0); });
socket.write(Buffer.from(frame, 'base64'));
setTimeout(() => process.exit(0), 2000);`;
  // No preload, loader or inspector flags in the helper: it must not announce itself or wait for a debugger.
  childProcess.spawnSync(process.execPath, ['-e', source], {
    input: JSON.stringify({ address: process.env[ENV.hub], frame: jsonFrame(hello).toString('base64') }),
    env: {},
    stdio: ['pipe', 'ignore', 'ignore'],
    timeout: 3_000,
  });
}

install();
