// The `forkscope` debug adapter: translates DAP requests to a launched program, and what the attach coordinator
// (attachCoordinator.ts, which decides each process's debugger) tells it to DAP events; it asks the host for a js-debug
// child session per attached process. Imports `vscode` never (host capabilities come in as ForkscopeSessionDeps), so
// the same class runs inline in VS Code and over a socket in tests. Its error answers are dapErrors.ts'.
import { DebugSession, Event, ExitedEvent, InitializedEvent, OutputEvent, TerminatedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { randomUUID } from 'node:crypto';
import { AttachCoordinator, type AttachCoordinatorDeps, type AttachEvents, type ChildSessionStarter } from './attachCoordinator';
import { normalizePolicy, sessionName, type ChildSessionOptions } from './attachPlan';
import { AttachedProgram } from './attachedProgram';
import type { ForkscopeEventName, ForkscopeEvents } from './debugEvents';
import { dapError, type DAP_ERRORS, type DapErrorKind } from './dapErrors';
import { connectObserver, type ObserverConnection } from '../../hub/observer';
import { resolveLaunchSpec, type ForkscopeAttachArguments, type ForkscopeLaunchArguments } from './launchArguments';
import type { AnnouncedProcess, LaunchHost, ProgramLauncher, RunningProgram, TerminalCommand } from './programHost';

export interface ForkscopeSessionDeps {
  launcher: ProgramLauncher;
  /** The id children carry in `__forkscope.rootSessionId` (VS Code passes its session's id). Default: a UUID. */
  id?: string;
  /** Default: a DAP `startDebugging` reverse request to the client. */
  startChildSession?: ChildSessionStarter;
  /** Default: CDP `Runtime.runIfWaitingForDebugger` over the inspector's WebSocket. */
  release?: AttachCoordinatorDeps['release'];
  /** `attach: "onDemand"`: watches a process about to be released for a stop nobody would see. Default: over CDP. */
  watchForPause?: AttachCoordinatorDeps['watchForPause'];
  /** Resolves once a newly announced process is parked waiting for its debugger. Default: asks over CDP. */
  untilWaiting?: AttachCoordinatorDeps['untilWaiting'];
  /** Checked on every launch: nothing runs in an untrusted workspace. Default: trusted. */
  isTrusted?: () => boolean;
  /** Joins the observer channel of a `forkscope run --inspect` hub (the `attach` request). Default: its Unix socket. */
  connectObserver?: (address: string, token: string) => Promise<ObserverConnection>;
  /** Runs a `console: "integratedTerminal"` launch. Default: a DAP `runInTerminal` reverse request, when the client has it. */
  runInTerminal?: (command: TerminalCommand) => Promise<void>;
  /** How many attaches run at once. @default 32 (attachCoordinator.ts) */
  maxConcurrentAttaches?: number;
  /** A child whose session has not started by then is released and reported. @default 20000 */
  attachTimeoutMs?: number;
}

export class ForkscopeSession extends DebugSession {
  readonly #deps: ForkscopeSessionDeps;
  readonly #id: string;
  #program: RunningProgram | undefined;
  /** Set by an `attach` request: disconnect then leaves the program running. */
  #attachedProgram: AttachedProgram | undefined;
  /** Decides each announced process's debugger; this session maps what it says to DAP. */
  readonly #attach: AttachCoordinator;
  /** The program's worker threads in the latest snapshot: what names js-debug's worker sessions. */
  #threads: AnnouncedProcess[] = [];
  #supportsProgress = false;
  #supportsRunInTerminal = false;
  #progressId: string | undefined;
  #terminating: Promise<void> | undefined;
  #terminatedSent = false;

  constructor(deps: ForkscopeSessionDeps) {
    super();
    this.#deps = deps;
    this.#id = deps.id ?? randomUUID();
    this.#attach = new AttachCoordinator({
      rootSessionId: this.#id,
      startChildSession: deps.startChildSession ?? this.#startDebuggingRequest,
      release: deps.release,
      watchForPause: deps.watchForPause,
      untilWaiting: deps.untilWaiting,
      maxConcurrentAttaches: deps.maxConcurrentAttaches,
      attachTimeoutMs: deps.attachTimeoutMs,
    });
    this.#attach.on('state', ({ process, state, reason }) => this.#report(process, state, reason));
    this.#attach.on('progress', (counts) => this.#progress(counts));
    this.#attach.on('notice', ({ text, category }) => this.sendEvent(new OutputEvent(text, category)));
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
    const runInTerminal = this.#deps.runInTerminal ?? (this.#supportsRunInTerminal ? this.#runInTerminalRequest : undefined);
    const host: LaunchHost = {};
    if (spec.console === 'integratedTerminal') {
      if (runInTerminal) host.runInTerminal = runInTerminal;
      else this.sendEvent(new OutputEvent('Forkscope: this client has no integrated terminal; the program runs with its output here.\n', 'console'));
    }
    // Without a terminal the launcher pipes the program's stdout/stderr here: js-debug must not print console calls
    // a second time. In a terminal, js-debug's console capture is the Debug Console's only copy.
    const outputCapture = host.runInTerminal ? undefined : 'std';
    const childOptions: ChildSessionOptions = {
      cwd: spec.cwd,
      skipFiles: launch.skipFiles,
      sourceMaps: launch.sourceMaps,
      outFiles: launch.outFiles,
      ...(outputCapture ? { outputCapture } : {}),
    };
    this.#attach.configure({ policy: normalizePolicy(launch.attach), childOptions, ...(launch.stopOnEntry === true ? { entry: spec.program } : {}) });
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
    this.#attach.configure({
      policy: normalizePolicy(attach.attach),
      childOptions: { cwd: attach.cwd, skipFiles: attach.skipFiles, sourceMaps: attach.sourceMaps, outFiles: attach.outFiles },
      joining: true,
    });
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
    program.onProcess((p) => this.#attach.announce(p));
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
      response.body = { processes: this.#attach.processes() };
      return this.sendResponse(response);
    }
    if (command === 'forkscope/thread') {
      const { pid, threadId } = (args ?? {}) as { pid?: unknown; threadId?: unknown };
      const isThread = (p: AnnouncedProcess) => p.pid === pid && p.threadId === threadId;
      const thread = this.#attach.processes().find(isThread) ?? this.#threads.find(isThread);
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
      const result = await this.#attach.attachNow(key);
      if (result === 'noInspector') return this.#fail(response, 'noSuchProcess', String(key));
      const process = this.#attach.processes().find((p) => p.key === key);
      if (result === 'failed') return this.#fail(response, 'attachFailed', process ? sessionName(process) : String(key));
      return this.sendResponse(response);
    }
    super.customRequest(command, response, args);
  }

  readonly #runInTerminalRequest = (command: TerminalCommand): Promise<void> =>
    new Promise((resolve, reject) => {
      const args: DebugProtocol.RunInTerminalRequestArguments = {
        kind: 'integrated',
        title: command.title,
        cwd: command.cwd,
        args: command.args,
        env: command.env,
      };
      this.sendRequest('runInTerminal', args, 15_000, (r) => (r.success ? resolve() : reject(new Error(r.message || 'the terminal did not start'))));
    });

  readonly #startDebuggingRequest: ChildSessionStarter = (configuration) =>
    new Promise((resolve) => {
      const args: DebugProtocol.StartDebuggingRequestArguments = { request: 'attach', configuration };
      this.sendRequest('startDebugging', args, this.#deps.attachTimeoutMs ?? 20_000, (r) => resolve(r.success));
    });

  #report(process: AnnouncedProcess, state: AttachEvents['state']['state'], reason?: string): void {
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

  #progress({ attached, pending, failed }: AttachEvents['progress']): void {
    this.#emit('forkscope/attachProgress', { attached, pending, failed });
    if (!this.#supportsProgress) return;
    if (pending > 0 && !this.#progressId) {
      this.#progressId = `forkscope-attach-${this.#id}`;
      this.sendEvent(new Event('progressStart', { progressId: this.#progressId, title: 'Attaching debuggers', cancellable: false }));
    }
    if (!this.#progressId) return;
    if (pending > 0) {
      this.sendEvent(new Event('progressUpdate', { progressId: this.#progressId, message: `${attached} attached, ${pending} pending` }));
    } else {
      this.sendEvent(new Event('progressEnd', { progressId: this.#progressId, message: `${attached} attached` }));
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

  /** Once per session: the program's end and a terminate request may both get here. */
  #sendTerminated(): void {
    if (this.#terminatedSent) return;
    this.#terminatedSent = true;
    this.#attach.close();
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
