// The `forkscope` debug adapter: translates DAP requests to a launched program and asks the host for a js-debug
// child session per announced process. Imports `vscode` never (host capabilities come in as ForkscopeSessionDeps),
// so the same class runs inline in VS Code and over a socket in tests.
import { DebugSession, Event, ExitedEvent, InitializedEvent, OutputEvent, TerminatedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { randomUUID } from 'node:crypto';
import { InspectorProxy } from './inspectorProxy';
import { attachConfiguration, decideAttach, normalizePolicy, sessionName, type AttachPolicy, type ChildSessionOptions } from './attachPlan';
import { AttachedProgram } from './attachedProgram';
import type { ForkscopeEventName, ForkscopeEvents } from './debugEvents';
import { dapError, type DAP_ERRORS, type DapErrorKind } from './dapErrors';
import { connectObserver, type ObserverConnection } from '../hub/observer';
import { armEntryBreakpoint, releaseIfStillParked, releaseInspector, waitUntilWaiting } from './inspectorRelease';
import { DEBUG_HANDSHAKE } from '../../runtime/src/protocol';
import { watchForPause, type PauseWatch, type WatchedPause } from './onDemandWatch';
import { resolveLaunchSpec, type ForkscopeAttachArguments, type ForkscopeLaunchArguments } from './launchArguments';
import type { AnnouncedProcess, LaunchHost, ProgramLauncher, RunningProgram, TerminalCommand } from './programHost';

/** Asks the host for one js-debug child session; resolves false (or rejects) when it did not start. */
export type ChildSessionStarter = (
  configuration: ReturnType<typeof attachConfiguration>,
  process: AnnouncedProcess,
) => Promise<boolean>;


/**
 * Attaches at once. Measured in code-server on 2 cores (bench/attachWorkbench.bench.ts, 32 children): 8 at once took
 * 26.4 s to have all paused, 32 took 17.8 s; 12 was no better than 32 once the watchdog threads were gone (21.3 s vs
 * 18.6 s, beside js-debug's own auto-attach at 17.0 and 13.3 s in the same runs). The workbench stayed responsive and
 * no attach failed.
 */
const MAX_CONCURRENT_ATTACHES = 32;
/** As long as a child's own watchdog lets it wait for a debugger. */
const PARKED_BACKSTOP_MS = DEBUG_HANDSHAKE.defaultWaitMs;
export interface ForkscopeSessionDeps {
  launcher: ProgramLauncher;
  /** The id children carry in `__forkscope.rootSessionId` (VS Code passes its session's id). Default: a UUID. */
  id?: string;
  /** Default: a DAP `startDebugging` reverse request to the client. */
  startChildSession?: ChildSessionStarter;
  /** Default: CDP `Runtime.runIfWaitingForDebugger` over the inspector's WebSocket. */
  release?: (inspectorUrl: string) => Promise<void>;
  /** `attach: "onDemand"`: watches a process about to be released for a stop nobody would see. Default: over CDP. */
  watchForPause?: (inspectorUrl: string, onPause: (pause: WatchedPause) => void) => Promise<PauseWatch>;
  /** Resolves once a newly announced process is parked waiting for its debugger. Default: asks over CDP. */
  untilWaiting?: (inspectorUrl: string) => Promise<void>;
  /** Checked on every launch: nothing runs in an untrusted workspace. Default: trusted. */
  isTrusted?: () => boolean;
  /** Joins the observer channel of a `forkscope run --inspect` hub (the `attach` request). Default: its Unix socket. */
  connectObserver?: (address: string, token: string) => Promise<ObserverConnection>;
  /** Runs a `console: "integratedTerminal"` launch. Default: a DAP `runInTerminal` reverse request, when the client has it. */
  runInTerminal?: (command: TerminalCommand) => Promise<void>;
  /** How many attaches run at once. @default MAX_CONCURRENT_ATTACHES */
  maxConcurrentAttaches?: number;
  /** A child whose session has not started by then is released and reported. @default 20000 */
  attachTimeoutMs?: number;
}

type DebuggerState = ForkscopeEvents['forkscope/process']['debugger'];

export class ForkscopeSession extends DebugSession {
  readonly #deps: ForkscopeSessionDeps;
  readonly #id: string;
  #program: RunningProgram | undefined;
  /** Set by an `attach` request: disconnect then leaves the program running. */
  #attachedProgram: AttachedProgram | undefined;
  #policy: AttachPolicy = 'all';
  #childOptions: ChildSessionOptions = {};
  readonly #processes = new Map<string, { process: AnnouncedProcess; state: DebuggerState }>();
  /** The program's worker threads in the latest snapshot: what names js-debug's worker sessions. */
  #threads: AnnouncedProcess[] = [];
  #supportsProgress = false;
  #supportsRunInTerminal = false;
  /** `stopOnEntry`: the program file whose first line the main process pauses on, until that is arranged. */
  #entry: string | undefined;
  #active = 0;
  readonly #waiting: Array<() => void> = [];
  #attached = 0;
  #failed = 0;
  #progressId: string | undefined;
  #terminating: Promise<void> | undefined;
  #terminatedSent = false;
  readonly #proxies = new Set<InspectorProxy>();

  constructor(deps: ForkscopeSessionDeps) {
    super();
    this.#deps = deps;
    this.#id = deps.id ?? randomUUID();
  }

  /** The id child configurations carry in `__forkscope.rootSessionId`. */
  get rootSessionId(): string {
    return this.#id;
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.#supportsProgress = args.supportsProgressReporting === true;
    this.#supportsRunInTerminal = args.supportsRunInTerminalRequest === true;
    response.body = { ...response.body, supportsConfigurationDoneRequest: true, supportsTerminateRequest: true };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments): Promise<void> {
    if (this.#deps.isTrusted && !this.#deps.isTrusted()) {
      return this.#fail(response, 'untrusted', 'launch programs');
    }
    const launch = args as ForkscopeLaunchArguments;
    let spec: ReturnType<typeof resolveLaunchSpec>;
    try {
      spec = resolveLaunchSpec(launch);
    } catch (error) {
      return this.#fail(response, 'invalidLaunch', messageOf(error));
    }
    this.#policy = normalizePolicy(launch.attach);
    this.#entry = launch.stopOnEntry === true ? spec.program : undefined;
    const runInTerminal = this.#deps.runInTerminal ?? (this.#supportsRunInTerminal ? this.#runInTerminalRequest : undefined);
    const host: LaunchHost = {};
    if (spec.console === 'integratedTerminal') {
      if (runInTerminal) host.runInTerminal = runInTerminal;
      else this.sendEvent(new OutputEvent('Forkscope: this client has no integrated terminal; the program runs with its output here.\n', 'console'));
    }
    // Without a terminal the launcher pipes the program's stdout/stderr here: js-debug must not print console calls
    // a second time. In a terminal, js-debug's console capture is the Debug Console's only copy.
    const outputCapture = host.runInTerminal ? undefined : 'std';
    this.#childOptions = { cwd: spec.cwd, skipFiles: launch.skipFiles, sourceMaps: launch.sourceMaps, outFiles: launch.outFiles, ...(outputCapture ? { outputCapture } : {}) };
    try {
      this.#program = await this.#deps.launcher.launch(spec, host);
    } catch (error) {
      return this.#fail(response, 'launchFailed', spec.program, messageOf(error));
    }
    this.#follow(this.#program);
    this.#emit('forkscope/launched', { pid: this.#program.pid, singleProcess: spec.singleProcess, program: spec.program });
    this.sendResponse(response);
  }

  /** Joins a program started with `forkscope run --inspect` (the address and token it printed). */
  protected override async attachRequest(response: DebugProtocol.AttachResponse, args: DebugProtocol.AttachRequestArguments): Promise<void> {
    if (this.#deps.isTrusted && !this.#deps.isTrusted()) {
      return this.#fail(response, 'untrusted', 'attach');
    }
    const attach = args as ForkscopeAttachArguments;
    if (typeof attach.address !== 'string' || typeof attach.token !== 'string') {
      return this.#fail(response, 'attachNeedsAddress');
    }
    this.#policy = normalizePolicy(attach.attach);
    this.#childOptions = { cwd: attach.cwd, skipFiles: attach.skipFiles, sourceMaps: attach.sourceMaps, outFiles: attach.outFiles };
    try {
      const connection = await (this.#deps.connectObserver ?? connectObserver)(attach.address, attach.token);
      this.#attachedProgram = new AttachedProgram(connection);
    } catch (error) {
      return this.#fail(response, 'hubUnreachable', attach.address, messageOf(error));
    }
    this.#program = this.#attachedProgram;
    this.sendResponse(response);
    this.#follow(this.#program);
  }

  #follow(program: RunningProgram): void {
    program.onProcess((p) => this.#announce(p));
    program.onOutput((category, text) => this.sendEvent(new OutputEvent(text, category)));
    program.onSnapshot?.((snapshot) => {
      this.#threads = snapshot.processes.filter((p) => p.threadId !== 0);
      this.#emit('forkscope/snapshot', { snapshot });
    });
    program.onExit((code) => {
      this.sendEvent(new ExitedEvent(code ?? 1));
      // The main process is gone; whatever a launched program left behind goes with the session. An attached
      // program's terminal (the CLI) sees to its own end.
      const ended = this.#attachedProgram ? Promise.resolve() : this.#terminateProgram();
      void ended.then(() => this.#sendTerminated());
    });
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    // The program's threads live in the child sessions; this root session only holds them together.
    response.body = { threads: [] };
    this.sendResponse(response);
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.#terminateProgram();
    this.sendResponse(response);
    this.#sendTerminated();
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse, args?: DebugProtocol.DisconnectArguments): Promise<void> {
    // A launched program ends with its session; an attached one goes on unless the client asks otherwise.
    const terminate = args?.terminateDebuggee ?? !this.#attachedProgram;
    if (terminate || !this.#attachedProgram) await this.#terminateProgram();
    else this.#attachedProgram.detach();
    this.sendResponse(response);
  }

  protected override async customRequest(command: string, response: DebugProtocol.Response, args: unknown): Promise<void> {
    if (command === 'forkscope/processes') {
      response.body = { processes: [...this.#processes.values()].map(({ process, state }) => ({ ...process, debugger: state })) };
      return this.sendResponse(response);
    }
    if (command === 'forkscope/thread') {
      const { pid, threadId } = (args ?? {}) as { pid?: unknown; threadId?: unknown };
      const isThread = (p: AnnouncedProcess) => p.pid === pid && p.threadId === threadId;
      const thread = [...this.#processes.values()].map((e) => e.process).find(isThread) ?? this.#threads.find(isThread);
      response.body = thread ? { name: sessionName(thread) } : {};
      return this.sendResponse(response);
    }
    if (command === 'forkscope/exportTrace') {
      const target = (args as { path?: unknown } | undefined)?.path;
      if (typeof target !== 'string' || target === '') return this.#fail(response, 'traceNeedsPath');
      if (!this.#program?.exportTrace) return this.#fail(response, 'noTrace');
      try {
        this.#program.exportTrace(target);
      } catch (error) {
        return this.#fail(response, 'traceWriteFailed', target, messageOf(error));
      }
      response.body = { path: target };
      return this.sendResponse(response);
    }
    if (command === 'forkscope/attach') {
      const key = (args as { key?: unknown } | undefined)?.key;
      const entry = typeof key === 'string' ? this.#processes.get(key) : undefined;
      if (!entry?.process.inspectorUrl) return this.#fail(response, 'noSuchProcess', String(key));
      if (entry.state === 'attached' || entry.state === 'attaching') return this.sendResponse(response);
      const ok = await this.#attach(entry.process, false);
      return ok ? this.sendResponse(response) : this.#fail(response, 'attachFailed', sessionName(entry.process));
    }
    super.customRequest(command, response, args);
  }

  #announce(process: AnnouncedProcess): void {
    const decision = decideAttach(this.#policy, process);
    this.#processes.set(process.key, { process, state: decision === 'viaParent' ? 'viaParent' : 'attaching' });
    if (decision === 'viaParent') return this.#report(process, 'viaParent');
    if (decision === 'release') {
      if (this.#policy === 'onDemand') void this.#releaseOnDemand(process);
      else void this.#release(process, 'released', 'not selected by the attach filter');
      return;
    }
    void this.#attach(process, true);
  }

  /** `initial`: the process just announced itself and waits; else it already runs (attach on demand). */
  async #attach(process: AnnouncedProcess, initial: boolean): Promise<boolean> {
    this.#setState(process, 'attaching');
    await this.#slot();
    let proxy: InspectorProxy | undefined;
    try {
      // js-debug sends runIfWaitingForDebugger once; it must not arrive before the process waits for it.
      if (initial) {
        try {
          await (this.#deps.untilWaiting ?? waitUntilWaiting)(process.inspectorUrl!);
        } catch (error) {
          // Joining a program that already runs (attach): a process announced earlier may have ended since, or
          // stopped waiting (its watchdog released it). The first has nothing to attach to; the second is attached as it runs.
          if (!this.#attachedProgram) throw error;
          if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
            this.#setState(process, 'none', 'ended before the debugger joined');
            return false;
          }
          initial = false;
        }
      }
      if (initial && process.role === 'main' && this.#entry) {
        const entry = this.#entry;
        this.#entry = undefined;
        // Armed before js-debug runs the process, so its first line cannot pass unseen.
        await armEntryBreakpoint(process.inspectorUrl!, entry).catch((error: unknown) =>
          this.sendEvent(new OutputEvent(`Forkscope: stopOnEntry: ${messageOf(error)}; the program runs on.\n`, 'stderr')),
        );
      }
      // js-debug reaches the inspector through a proxy that hides threads that are not the program's.
      proxy = await InspectorProxy.open(process.inspectorUrl!);
      this.#proxies.add(proxy);
      const configuration = attachConfiguration({ ...process, inspectorUrl: proxy.url }, this.#childOptions, {
        rootSessionId: this.#id,
        key: process.key,
        parent: process.parent,
        pid: process.pid,
      });
      const started = await withTimeout(
        (this.#deps.startChildSession ?? this.#startDebuggingRequest)(configuration, process),
        this.#deps.attachTimeoutMs ?? 20_000,
        'the debugger did not start in time',
      );
      if (!started) throw new Error('VS Code did not start the session');
      this.#attached++;
      this.#setState(process, 'attached');
      if (initial) this.#releaseIfNeverRun(process);
      return true;
    } catch (error) {
      if (proxy) {
        proxy.close();
        this.#proxies.delete(proxy);
      }
      this.#failed++;
      const reason = messageOf(error);
      this.sendEvent(new OutputEvent(`Forkscope: could not attach to ${sessionName(process)}: ${reason}; it runs without a debugger.\n`, 'stderr'));
      if (initial) await this.#release(process, 'failed', reason);
      else this.#report(process, 'failed', reason);
      return false;
    } finally {
      this.#freeSlot();
    }
  }

  /**
   * waitUntilWaiting ended the process's watchdog, so its promise is ours: if the debugger that started never runs
   * it (its session was stopped, or failed, while it attached), it is released when the watchdog would have.
   */
  #releaseIfNeverRun(process: AnnouncedProcess): void {
    const check = async () => {
      if (!(await releaseIfStillParked(process.inspectorUrl!).catch(() => false))) return;
      this.#setState(process, 'failed', 'its debugger never ran it; released');
      this.sendEvent(new OutputEvent(`Forkscope: ${sessionName(process)} was still waiting for its debugger after ${PARKED_BACKSTOP_MS / 1000} s; released.\n`, 'stderr'));
    };
    setTimeout(() => void check(), PARKED_BACKSTOP_MS).unref();
  }

  /**
   * Released with a watch on: when the process stops at a `debugger` statement or an uncaught exception, it gets
   * its debugger there (the view's attach path) and the watch leaves without resuming it, so the user lands on that
   * line. If no debugger comes, the watch resumes it: a released process is never left stopped.
   */
  async #releaseOnDemand(process: AnnouncedProcess): Promise<void> {
    let watch: PauseWatch | undefined;
    // The process may stop before the release's answer is back: from then on its state is the attach's, not 'released'.
    let stopped = false;
    const onPause = (pause: WatchedPause): void => {
      void (async () => {
        const entry = this.#processes.get(process.key);
        if (!watch || !entry || stopped || entry.state === 'attached') return;
        stopped = true;
        const why = pause.reason === 'exception' || pause.reason === 'promiseRejection' ? 'an uncaught exception' : 'a debugger statement';
        this.sendEvent(new OutputEvent(`Forkscope: ${sessionName(process)} stopped at ${why}; attaching its debugger.\n`, 'console'));
        const attached = await this.#attach(process, false);
        if (attached) watch.handOver();
        else await watch.resume().catch(() => watch?.close());
      })();
    };
    try {
      watch = await (this.#deps.watchForPause ?? watchForPause)(process.inspectorUrl!, onPause);
    } catch (error) {
      this.sendEvent(new OutputEvent(`Forkscope: ${sessionName(process)} is not watched for debugger statements: ${messageOf(error)}\n`, 'stderr'));
    }
    try {
      await (this.#deps.release ?? releaseInspector)(process.inspectorUrl!);
      if (!stopped) this.#setState(process, 'released', 'attach on demand');
    } catch (error) {
      watch?.close();
      this.#setState(process, 'failed', `attach on demand; release failed: ${messageOf(error)}`);
    }
  }

  async #release(process: AnnouncedProcess, state: DebuggerState, reason: string): Promise<void> {
    try {
      await (this.#deps.release ?? releaseInspector)(process.inspectorUrl!);
      this.#setState(process, state, reason);
    } catch (error) {
      // The process's own watchdog releases it if this did not; say why it may lag.
      this.#setState(process, 'failed', `${reason}; release failed: ${messageOf(error)}`);
    }
  }

  readonly #runInTerminalRequest = (command: TerminalCommand): Promise<void> =>
    new Promise((resolve, reject) => {
      const args: DebugProtocol.RunInTerminalRequestArguments = { kind: 'integrated', title: command.title, cwd: command.cwd, args: command.args, env: command.env };
      this.sendRequest('runInTerminal', args, 15_000, (r) => (r.success ? resolve() : reject(new Error(r.message || 'the terminal did not start'))));
    });

  readonly #startDebuggingRequest: ChildSessionStarter = (configuration) =>
    new Promise((resolve) => {
      const args: DebugProtocol.StartDebuggingRequestArguments = { request: 'attach', configuration };
      this.sendRequest('startDebugging', args, this.#deps.attachTimeoutMs ?? 20_000, (r) => resolve(r.success));
    });

  #setState(process: AnnouncedProcess, state: DebuggerState, reason?: string): void {
    const entry = this.#processes.get(process.key);
    if (entry) entry.state = state;
    this.#report(process, state, reason);
    this.#progress();
  }

  #report(process: AnnouncedProcess, state: DebuggerState, reason?: string): void {
    this.#emit('forkscope/process', {
      key: process.key,
      pid: process.pid,
      name: process.name,
      role: process.role,
      ...(process.parent ? { parent: process.parent } : {}),
      debugger: state,
      ...(reason ? { reason } : {}),
    });
  }

  #progress(): void {
    const pending = [...this.#processes.values()].filter((e) => e.state === 'attaching').length;
    this.#emit('forkscope/attachProgress', { attached: this.#attached, pending, failed: this.#failed });
    if (!this.#supportsProgress) return;
    if (pending > 0 && !this.#progressId) {
      this.#progressId = `forkscope-attach-${this.#id}`;
      this.sendEvent(new Event('progressStart', { progressId: this.#progressId, title: 'Attaching debuggers', cancellable: false }));
    }
    if (!this.#progressId) return;
    if (pending > 0) {
      this.sendEvent(new Event('progressUpdate', { progressId: this.#progressId, message: `${this.#attached} attached, ${pending} pending` }));
    } else {
      this.sendEvent(new Event('progressEnd', { progressId: this.#progressId, message: `${this.#attached} attached` }));
      this.#progressId = undefined;
    }
  }

  /** Answers `response` with an error of the adapter's table (dapErrors.ts). */
  #fail<K extends DapErrorKind>(response: DebugProtocol.Response, kind: K, ...args: Parameters<(typeof DAP_ERRORS)[K]['message']>): void {
    const { code, message } = dapError(kind, ...args);
    this.sendErrorResponse(response, code, message);
  }

  #emit<E extends ForkscopeEventName>(name: E, body: ForkscopeEvents[E]): void {
    this.sendEvent(new Event(name, body));
  }

  #slot(): Promise<void> {
    if (this.#active < (this.#deps.maxConcurrentAttaches ?? MAX_CONCURRENT_ATTACHES)) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(() => (this.#active++, resolve())));
  }

  #freeSlot(): void {
    this.#active--;
    this.#waiting.shift()?.();
  }

  /** Once per session: the program's end and a terminate request may both get here. */
  #sendTerminated(): void {
    if (this.#terminatedSent) return;
    this.#terminatedSent = true;
    for (const proxy of this.#proxies) proxy.close();
    this.#proxies.clear();
    this.sendEvent(new TerminatedEvent());
  }

  #terminateProgram(): Promise<void> {
    this.#terminating ??= this.#program?.terminate() ?? Promise.resolve();
    return this.#terminating;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}
