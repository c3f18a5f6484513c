// The engine of the `forkscope` adapter (mock-debug's shape: the session translates, this decides): for each process
// the program announces, whether and when a debugger attaches. It owns the attach slots, waiting until a process is
// parked, stopOnEntry's breakpoint, the backstop for a debugger that never runs its process, the on-demand watch and
// every process's debugger state, and tells what happens through typed events. No DAP here: ForkscopeSession maps the
// events to DAP and supplies the child-session starter.
import { InspectorProxy } from './inspectorProxy';
import { attachConfiguration, decideAttach, sessionName, type AttachPolicy, type ChildSessionOptions } from './attachPlan';
import type { ForkscopeEvents } from './debugEvents';
import { armEntryBreakpoint, releaseIfStillParked, releaseInspector, waitUntilWaiting } from './inspectorRelease';
import { DEBUG_HANDSHAKE } from '../../runtime/src/protocol';
import { watchForPause, type PauseWatch, type WatchedPause } from './onDemandWatch';
import type { AnnouncedProcess } from './programHost';

/** Asks the host for one js-debug child session; resolves false (or rejects) when it did not start. */
export type ChildSessionStarter = (configuration: ReturnType<typeof attachConfiguration>, process: AnnouncedProcess) => Promise<boolean>;

export type DebuggerState = ForkscopeEvents['forkscope/process']['debugger'];

/**
 * Attaches at once. Measured in code-server on 2 cores (bench/attachWorkbench.bench.ts, 32 children): 8 at once took
 * 26.4 s to have all paused, 32 took 17.8 s; 12 was no better than 32 once the watchdog threads were gone (21.3 s vs
 * 18.6 s, beside js-debug's own auto-attach at 17.0 and 13.3 s in the same runs). The workbench stayed responsive and
 * no attach failed.
 */
const MAX_CONCURRENT_ATTACHES = 32;
/** As long as a child's own watchdog lets it wait for a debugger. */
const PARKED_BACKSTOP_MS = DEBUG_HANDSHAKE.defaultWaitMs;

export interface AttachCoordinatorDeps {
  /** The id children carry in `__forkscope.rootSessionId`. */
  rootSessionId: string;
  startChildSession: ChildSessionStarter;
  /** Default: CDP `Runtime.runIfWaitingForDebugger` over the inspector's WebSocket. */
  release?: (inspectorUrl: string) => Promise<void>;
  /** `attach: "onDemand"`: watches a process about to be released for a stop nobody would see. Default: over CDP. */
  watchForPause?: (inspectorUrl: string, onPause: (pause: WatchedPause) => void) => Promise<PauseWatch>;
  /** Resolves once a newly announced process is parked waiting for its debugger. Default: asks over CDP. */
  untilWaiting?: (inspectorUrl: string) => Promise<void>;
  /** How many attaches run at once. @default MAX_CONCURRENT_ATTACHES */
  maxConcurrentAttaches?: number;
  /** A child whose session has not started by then is released and reported. @default 20000 */
  attachTimeoutMs?: number;
}

/** What the coordinator tells its session. */
export interface AttachEvents {
  /** A process's debugger state changed (or, for `viaParent`, was decided). */
  state: { process: AnnouncedProcess; state: DebuggerState; reason?: string };
  /** How far attaching has got, after every state change. */
  progress: { attached: number; pending: number; failed: number };
  /** A line for the person debugging: `console` for what happened, `stderr` for what went wrong. */
  notice: { text: string; category: 'console' | 'stderr' };
}

/** How the coordinator treats the processes of one program, set by the launch or attach request. */
export interface AttachSetup {
  policy: AttachPolicy;
  childOptions: ChildSessionOptions;
  /** `stopOnEntry`: the program file whose first line the main process pauses on. */
  entry?: string;
  /** Joining a program that already runs (`forkscope run --inspect`): announced processes may have moved on. */
  joining?: boolean;
}

/** The answer to a request to attach to one process now. */
export type OnDemandResult = 'attached' | 'busy' | 'noInspector' | 'failed';

export class AttachCoordinator {
  readonly #deps: AttachCoordinatorDeps;
  readonly #listeners: { [E in keyof AttachEvents]: Array<(body: AttachEvents[E]) => void> } = { state: [], progress: [], notice: [] };
  #setup: AttachSetup = { policy: 'all', childOptions: {} };
  readonly #processes = new Map<string, { process: AnnouncedProcess; state: DebuggerState }>();
  #active = 0;
  readonly #waiting: Array<() => void> = [];
  #attached = 0;
  #failed = 0;
  readonly #proxies = new Set<InspectorProxy>();

  constructor(deps: AttachCoordinatorDeps) {
    this.#deps = deps;
  }

  on<E extends keyof AttachEvents>(event: E, listener: (body: AttachEvents[E]) => void): void {
    this.#listeners[event].push(listener);
  }

  configure(setup: AttachSetup): void {
    this.#setup = { ...setup };
  }

  /** Every process announced so far, with its debugger state. */
  processes(): Array<AnnouncedProcess & { debugger: DebuggerState }> {
    return [...this.#processes.values()].map(({ process, state }) => ({ ...process, debugger: state }));
  }

  /** A newly announced process: it waits for its debugger until this decides. */
  announce(process: AnnouncedProcess): void {
    const decision = decideAttach(this.#setup.policy, process);
    this.#processes.set(process.key, { process, state: decision === 'viaParent' ? 'viaParent' : 'attaching' });
    if (decision === 'viaParent') return this.#emit('state', { process, state: 'viaParent' });
    if (decision === 'release') {
      if (this.#setup.policy === 'onDemand') void this.#releaseOnDemand(process);
      else void this.#release(process, 'released', 'not selected by the attach filter');
      return;
    }
    void this.#attach(process, true);
  }

  /** Attaches a debugger to the announced process `key` as it runs (the view's attach). */
  async attachNow(key: unknown): Promise<OnDemandResult> {
    const entry = typeof key === 'string' ? this.#processes.get(key) : undefined;
    if (!entry?.process.inspectorUrl) return 'noInspector';
    if (entry.state === 'attached' || entry.state === 'attaching') return 'busy';
    return (await this.#attach(entry.process, false)) ? 'attached' : 'failed';
  }

  /** Lets every inspector proxy go (the session ended). */
  close(): void {
    for (const proxy of this.#proxies) proxy.close();
    this.#proxies.clear();
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
          if (!this.#setup.joining) throw error;
          if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
            this.#setState(process, 'none', 'ended before the debugger joined');
            return false;
          }
          initial = false;
        }
      }
      if (initial && process.role === 'main' && this.#setup.entry) {
        const entry = this.#setup.entry;
        this.#setup.entry = undefined;
        // Armed before js-debug runs the process, so its first line cannot pass unseen.
        await armEntryBreakpoint(process.inspectorUrl!, entry).catch((error: unknown) =>
          this.#emit('notice', { text: `Forkscope: stopOnEntry: ${messageOf(error)}; the program runs on.\n`, category: 'stderr' }),
        );
      }
      // js-debug reaches the inspector through a proxy that hides threads that are not the program's.
      proxy = await InspectorProxy.open(process.inspectorUrl!);
      this.#proxies.add(proxy);
      const configuration = attachConfiguration({ ...process, inspectorUrl: proxy.url }, this.#setup.childOptions, {
        rootSessionId: this.#deps.rootSessionId,
        key: process.key,
        parent: process.parent,
        pid: process.pid,
      });
      const started = await withTimeout(
        this.#deps.startChildSession(configuration, process),
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
      this.#emit('notice', { text: `Forkscope: could not attach to ${sessionName(process)}: ${reason}; it runs without a debugger.\n`, category: 'stderr' });
      if (initial) await this.#release(process, 'failed', reason);
      else this.#emit('state', { process, state: 'failed', reason });
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
      this.#emit('notice', {
        text: `Forkscope: ${sessionName(process)} was still waiting for its debugger after ${PARKED_BACKSTOP_MS / 1000} s; released.\n`,
        category: 'stderr',
      });
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
        this.#emit('notice', { text: `Forkscope: ${sessionName(process)} stopped at ${why}; attaching its debugger.\n`, category: 'console' });
        const attached = await this.#attach(process, false);
        if (attached) watch.handOver();
        else await watch.resume().catch(() => watch?.close());
      })();
    };
    try {
      watch = await (this.#deps.watchForPause ?? watchForPause)(process.inspectorUrl!, onPause);
    } catch (error) {
      this.#emit('notice', { text: `Forkscope: ${sessionName(process)} is not watched for debugger statements: ${messageOf(error)}\n`, category: 'stderr' });
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

  #setState(process: AnnouncedProcess, state: DebuggerState, reason?: string): void {
    const entry = this.#processes.get(process.key);
    if (entry) entry.state = state;
    this.#emit('state', { process, state, ...(reason ? { reason } : {}) });
    const pending = [...this.#processes.values()].filter((e) => e.state === 'attaching').length;
    this.#emit('progress', { attached: this.#attached, pending, failed: this.#failed });
  }

  #emit<E extends keyof AttachEvents>(event: E, body: AttachEvents[E]): void {
    for (const listener of this.#listeners[event]) listener(body);
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
