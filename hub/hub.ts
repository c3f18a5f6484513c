// One observability session: the control-channel server, the program model, the process sampler and
// (optionally) a trace recorder, behind one small class. Used by the CLI and by the debug adapter.
// Must not import vscode.
//
// API:
//   const hub = new Hub({ onSnapshot(snapshot) {…}, debug: true });
//   const { address, token, env } = await hub.start();   // env: FORKSCOPE_HUB, FORKSCOPE_TOKEN,
//        // NODE_OPTIONS (with the preload, appended to `baseEnv.NODE_OPTIONS`), FORKSCOPE_DEBUG/SINGLE_PROCESS
//   spawn(process.execPath, [program], { env: { ...process.env, ...env } });
//   const off = hub.onProcess((p) => p.inspectorUrl && attach(p));  // each hello, and each new inspector URL
//   hub.model.snapshot();        // ProgramSnapshot, any time
//   hub.processExited(pid, code, signal);  // the launcher saw its root child end
//   await hub.close();           // closes every connection and removes the socket directory
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENV, type Hello, type ProcessKey, type RuntimeEvent } from '../runtime/src/protocol';
import { HubServer } from './hubServer';
import { ObjectNamer } from './objectNames';
import { ProgramModel } from './programModel';
import { ProcessSampler } from './processSampler';
import type { ProgramSnapshot } from './snapshot';

/** What `onProcess` listeners get: one process or worker as it announced itself. */
export interface AnnouncedProcess {
  key: ProcessKey;
  pid: number;
  ppid: number;
  threadId: number;
  parent?: ProcessKey;
  name: string;
  role: Hello['role'];
  startMethod: Hello['startMethod'];
  /** Present when the process opened an inspector and waits for a debugger. */
  inspectorUrl?: string;
}

export interface HubOptions {
  /** Called at most every `snapshotIntervalMs` when the model changed, with what changed since the last call. */
  onSnapshot?: (snapshot: ProgramSnapshot) => void;
  /** @default 100 */
  snapshotIntervalMs?: number;
  /** Every process opens an inspector and waits for a debugger (FORKSCOPE_DEBUG=1). */
  debug?: boolean;
  /** Runs the whole program in the inline start method (FORKSCOPE_SINGLE_PROCESS=1). */
  singleProcess?: boolean;
  /** The preload (`runtime/dist/preload.cjs`) added to NODE_OPTIONS; found next to the runtime when omitted; `false` for none. */
  preload?: string | false;
  /** Sample CPU/memory and non-Node descendants every this many ms; `false` for never. @default 2000 */
  sampleIntervalMs?: number | false;
  /** Environment whose NODE_OPTIONS the returned `env` extends. @default process.env */
  baseEnv?: NodeJS.ProcessEnv;
  /** How long a new connection may stay silent before its hello (tests shorten it). @default AUTH_TIMEOUT_MS */
  authTimeoutMs?: number;
}

export interface HubSession {
  address: string;
  token: string;
  /** Variables to add to the program's environment. */
  env: Record<string, string>;
}

export type EventListener = (key: ProcessKey, events: readonly RuntimeEvent[]) => void;

export class Hub {
  readonly model: ProgramModel;
  #options: HubOptions;
  #server: HubServer;
  #sampler: ProcessSampler | undefined;
  #processListeners = new Set<(p: AnnouncedProcess) => void>();
  #eventListeners = new Set<EventListener>();
  #helloListeners = new Set<(key: ProcessKey, hello: Hello) => void>();
  #announced = new Map<ProcessKey, AnnouncedProcess>();
  /** Labels objects made without one (from their construction site's binding) before the model and the trace see them. */
  #namer = new ObjectNamer();
  #timer: NodeJS.Timeout | undefined;
  /** The model version last given to onSnapshot: a publish with nothing new is skipped. */
  #publishedVersion = -1;
  #started = false;

  constructor(options: HubOptions = {}) {
    this.#options = options;
    this.model = new ProgramModel({ singleProcess: options.singleProcess ?? false });
    this.#server = new HubServer(
      {
        onHello: (hello) => this.#hello(hello),
        onEvents: (key, events) => this.#events(key, events),
        onClose: (key, _connection, hello) => {
          // The preload's announcing connection closes by design; the process lives on.
          if (!hello.announceOnly) this.model.disconnected(key, Date.now());
        },
        onReject: () => this.model.connectionRejected(),
      },
      { authTimeoutMs: options.authTimeoutMs },
    );
  }

  get token(): string {
    return this.#server.token;
  }

  get address(): string {
    return this.#server.address;
  }

  get rejectedConnections(): number {
    return this.#server.rejectedConnections;
  }

  /** Open connections: each reporting process or thread holds one until it ends. */
  get connectionCount(): number {
    return this.#server.connectionCount;
  }

  /** Resolves when every connection has closed (the processes' last frames are read), or after `ms`. */
  async settle(ms = 1_000): Promise<void> {
    const until = Date.now() + ms;
    while (this.#server.connectionCount > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }

  async start(): Promise<HubSession> {
    if (this.#started) throw new Error('Hub.start() called twice');
    this.#started = true;
    const address = await this.#server.listen();
    // FORKSCOPE_PARENT is emptied so a program run inside another session starts a tree of its own.
    const env: Record<string, string> = { [ENV.hub]: address, [ENV.token]: this.token, [ENV.parent]: '' };
    if (this.#options.debug) env[ENV.debug] = '1';
    if (this.#options.singleProcess) env[ENV.singleProcess] = '1';
    const preload = this.#options.preload === false ? undefined : (this.#options.preload ?? defaultPreload());
    if (preload) env.NODE_OPTIONS = appendNodeOption((this.#options.baseEnv ?? process.env).NODE_OPTIONS, '--require', preload);
    if (this.#options.onSnapshot) {
      const interval = this.#options.snapshotIntervalMs ?? 100;
      this.#timer = setInterval(() => this.#publish(), interval);
      this.#timer.unref();
    }
    if (this.#options.sampleIntervalMs !== false) {
      this.#sampler = new ProcessSampler(this.model, this.#options.sampleIntervalMs ?? 2_000);
      this.#sampler.start();
    }
    return { address, token: this.token, env };
  }

  /** Fires on each hello, and again when a process announces a new inspector URL. Returns a function that removes the listener. */
  onProcess(listener: (p: AnnouncedProcess) => void): () => void {
    this.#processListeners.add(listener);
    return () => this.#processListeners.delete(listener);
  }

  /** Every well-formed event batch as it arrives (the trace recorder and the CLI listen here). */
  onEvents(listener: EventListener): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /** Every accepted hello, with its key. */
  onHello(listener: (key: ProcessKey, hello: Hello) => void): () => void {
    this.#helloListeners.add(listener);
    return () => this.#helloListeners.delete(listener);
  }

  /** The launcher saw a process end (the root has no parent to report it). `signal` is a name like `SIGKILL`. */
  processExited(pid: number, exitCode: number | null, signal: string | null): void {
    const key = String(pid);
    this.model.processExited(key, exitCode, signal, Date.now());
    for (const l of this.#eventListeners) safely(() => l(key, [{ t: 'child.exit', ts: Date.now(), key, exitCode, signal }]));
  }

  /** Samples CPU/memory once now (tests, and before a final report). */
  async sampleNow(): Promise<void> {
    await (this.#sampler ?? new ProcessSampler(this.model)).sampleOnce();
  }

  /** Sends any pending change to `onSnapshot` now. */
  publish(): void {
    this.#publish();
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sampler?.stop();
    await this.#server.close();
    this.#publish();
  }

  #hello(hello: Hello): ProcessKey {
    const key = this.model.hello(hello, Date.now());
    for (const l of this.#helloListeners) safely(() => l(key, hello));
    const node = this.model.process(key);
    this.#announce({
      key,
      pid: hello.pid,
      ppid: hello.ppid,
      threadId: hello.threadId,
      ...(node?.parent !== undefined ? { parent: node.parent } : {}),
      name: node?.name ?? hello.name,
      role: node?.role ?? hello.role,
      startMethod: node?.startMethod ?? hello.startMethod,
      ...(hello.inspectorUrl !== undefined ? { inspectorUrl: hello.inspectorUrl } : {}),
    });
    return key;
  }

  #events(key: ProcessKey, events: RuntimeEvent[]): void {
    for (const e of events) if (e.t === 'object') this.#namer.name(e);
    this.model.applyAll(key, events);
    for (const e of events) {
      if (e.t !== 'identity') continue;
      const before = this.#announced.get(key);
      if (!before) continue;
      const after: AnnouncedProcess = { ...before };
      if (e.name !== undefined) after.name = e.name;
      if (e.role !== undefined) after.role = e.role;
      if (e.startMethod !== undefined) after.startMethod = e.startMethod;
      if (e.parent !== undefined) after.parent = e.parent;
      if (e.inspectorUrl !== undefined) after.inspectorUrl = e.inspectorUrl;
      this.#announced.set(key, after);
      if (e.inspectorUrl !== undefined && e.inspectorUrl !== before.inspectorUrl) this.#emitProcess(after);
    }
    for (const l of this.#eventListeners) safely(() => l(key, events));
  }

  #announce(p: AnnouncedProcess): void {
    // A process may say hello twice (the preload's announcement, then its own connection): listeners
    // hear of it once, and again only for a new inspector URL.
    const before = this.#announced.get(p.key);
    this.#announced.set(p.key, before && p.inspectorUrl === undefined && before.inspectorUrl !== undefined ? { ...p, inspectorUrl: before.inspectorUrl } : p);
    if (!before || (p.inspectorUrl !== undefined && p.inspectorUrl !== before.inspectorUrl)) this.#emitProcess(this.#announced.get(p.key)!);
  }

  #emitProcess(p: AnnouncedProcess): void {
    for (const l of this.#processListeners) safely(() => l(p));
  }

  #publish(): void {
    const onSnapshot = this.#options.onSnapshot;
    if (!onSnapshot) return;
    const version = this.model.version;
    if (version === this.#publishedVersion) return;
    this.#publishedVersion = version;
    safely(() => onSnapshot(this.model.snapshot()));
  }
}

/** Adds `--require "<path>"` to a NODE_OPTIONS string, quoted so paths with spaces survive. */
export function appendNodeOption(existing: string | undefined, flag: string, value: string): string {
  const option = `${flag} "${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return existing?.trim() ? `${existing} ${option}` : option;
}

/** `runtime/dist/preload.cjs`, beside this bundle (the CLI) or in the workspace (the extension, tests). */
export function defaultPreload(): string | undefined {
  const here = typeof __dirname === 'string' && __dirname ? __dirname : process.cwd();
  const candidates = [join(here, 'preload.cjs'), join(here, '..', 'runtime', 'dist', 'preload.cjs'), join(here, '..', '..', 'runtime', 'dist', 'preload.cjs')];
  const found = candidates.find((p) => existsSync(p));
  // NODE_OPTIONS is read in the program's working directory: the path must be absolute.
  return found && resolve(found);
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    // A listener's failure is its own; the hub keeps serving the program.
    process.emitWarning(`forkscope hub: a listener threw: ${error instanceof Error ? error.message : String(error)}`);
  }
}
