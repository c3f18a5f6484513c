// The VS Code side of child sessions: starts each js-debug attach nested under its parent process's session,
// and keeps all-stop (a stop anywhere pauses every process of the program; Continue resumes them all).
// The only debug module besides registerDebugging that imports `vscode`; the adapter core reaches it through
// the ChildSessionStarter it is given.
import * as vscode from 'vscode';
import { DEBUG_TYPE } from '../contributions';
import type { ForkscopeChildTag } from './attachPlan';
import type { ChildSessionStarter } from './attachCoordinator';

/** Finds the `forkscope` session a (possibly deeply nested js-debug) session belongs to. */
export function forkscopeRootOf(session: vscode.DebugSession | undefined): vscode.DebugSession | undefined {
  for (let s = session; s; s = s.parentSession) if (s.type === DEBUG_TYPE) return s;
  return undefined;
}

function tagOf(session: vscode.DebugSession): ForkscopeChildTag | undefined {
  const tag = (session.configuration as { __forkscope?: ForkscopeChildTag }).__forkscope;
  return tag && typeof tag.key === 'string' ? tag : undefined;
}

/**
 * js-debug nests one target session under each attach session we start (VS Code compacts ours away and shows its
 * child) and names it `Remote Process [0] « <our name>` (its attach watchdog's script name and an unknown pid, see
 * vscode-js-debug's sessionManager.ts setName). The row the user sees takes our name: `Process-3 · worker · pid 4711`.
 */
function nameTargetSession(session: vscode.DebugSession): void {
  const parent = session.parentSession;
  if (!parent) return;
  if (tagOf(parent)) {
    if (session.name !== parent.name) session.name = parent.name;
    return;
  }
  const process = parent.parentSession && tagOf(parent.parentSession);
  const thread = /^\[worker (\d+)\]/.exec(session.name);
  if (process && thread) void nameThread(session, process.pid, Number(thread[1]));
}

/** How long a worker session waits for its thread to show in the program model. */
const THREAD_KNOWN_WITHIN_MS = 5_000;

/**
 * js-debug attaches every worker thread of a process and names its session `[worker N]`: the program's own threads
 * take their runtime names. A thread the program never started (Node 20's module hooks thread, for ES module
 * TypeScript) keeps js-debug's name: js-debug cannot detach one worker (its NodeWorkerTarget.detach sends
 * NodeWorker.detach into the worker itself, and the disconnect then waits forever), and a stopped session's row
 * cannot be hidden.
 */
async function nameThread(session: vscode.DebugSession, pid: number, threadId: number): Promise<void> {
  const root = forkscopeRootOf(session);
  if (!root) return;
  const deadline = Date.now() + THREAD_KNOWN_WITHIN_MS;
  for (;;) {
    const reply = (await root.customRequest('forkscope/thread', { pid, threadId }).then(undefined, () => undefined)) as { name?: string } | undefined;
    if (reply === undefined) return; // the root session is gone
    if (reply.name) {
      session.name = reply.name;
      return;
    }
    if (Date.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export class ChildSessions implements vscode.Disposable {
  /** Per root and process key: js-debug's target session (the row the user sees) under the attach session we started. */
  readonly #byKey = new Map<string, vscode.DebugSession>();
  readonly #waiters = new Map<string, Array<(s: vscode.DebugSession) => void>>();
  readonly #disposables: vscode.Disposable[] = [];

  constructor() {
    this.#disposables.push(
      vscode.debug.onDidStartDebugSession((session) => {
        if (tagOf(session)) return;
        nameTargetSession(session);
        const tag = session.parentSession && tagOf(session.parentSession);
        if (!tag) return;
        const id = `${tag.rootSessionId}\0${tag.key}`;
        this.#byKey.set(id, session);
        for (const resolve of this.#waiters.get(id) ?? []) resolve(session);
        this.#waiters.delete(id);
      }),
      vscode.debug.onDidTerminateDebugSession((session) => {
        const tag = session.parentSession && tagOf(session.parentSession);
        if (tag && this.#byKey.get(`${tag.rootSessionId}\0${tag.key}`) === session) this.#byKey.delete(`${tag.rootSessionId}\0${tag.key}`);
      }),
    );
  }

  /**
   * Starts children of `root` nested under their parent process's row when it is up, else under the root. The row is
   * js-debug's target session: nested under our attach session instead, the children would keep VS Code from
   * compacting that attach session away, and it would show as a second row, "Running" for ever (it holds no thread).
   */
  starterFor(root: vscode.DebugSession): ChildSessionStarter {
    return async (configuration, process) => {
      const parent = process.parent ? await this.#sessionOf(root.id, process.parent, 2_000) : undefined;
      return vscode.debug.startDebugging(root.workspaceFolder, configuration, {
        parentSession: parent ?? root,
        lifecycleManagedByParent: true,
        consoleMode: vscode.DebugConsoleMode.MergeWithParent,
        compact: false,
        // Each child would otherwise bring Run and Debug back over whatever the side bar shows (the Forkscope view).
        suppressDebugView: true,
      });
    };
  }

  #sessionOf(rootId: string, key: string, waitMs: number): Promise<vscode.DebugSession | undefined> {
    const id = `${rootId}\0${key}`;
    const known = this.#byKey.get(id);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), waitMs);
      const list = this.#waiters.get(id) ?? [];
      list.push((s) => (clearTimeout(timer), resolve(s)));
      this.#waiters.set(id, list);
    });
  }

  dispose(): void {
    for (const d of this.#disposables) d.dispose();
  }
}

/**
 * All-stop over js-debug's sessions (which are not all-stop themselves, see
 * https://github.com/microsoft/vscode/issues/137953): a tracker on every pwa-node session of a forkscope program
 * sees `stopped` and pauses the other running ones; a `continue` request resumes the other stopped ones.
 * Steps stay local to the session stepped.
 */
export class AllStop implements vscode.DebugAdapterTrackerFactory, vscode.Disposable {
  readonly #sessions = new Map<string, vscode.DebugSession>();
  readonly #stopped = new Set<string>();
  /** Sessions we paused or continued ourselves: their echo must not propagate again. */
  readonly #ourPauses = new Set<string>();
  readonly #ourContinues = new Set<string>();
  /** Root session id → all-stop on or off, when toggled during the session. */
  readonly #toggled = new Map<string, boolean>();

  isEnabled(root: vscode.DebugSession): boolean {
    return this.#toggled.get(root.id) ?? root.configuration.stopAll === true;
  }

  toggle(root: vscode.DebugSession): boolean {
    const next = !this.isEnabled(root);
    this.#toggled.set(root.id, next);
    return next;
  }

  createDebugAdapterTracker(session: vscode.DebugSession): vscode.DebugAdapterTracker | undefined {
    const root = forkscopeRootOf(session);
    if (!root) return undefined;
    this.#sessions.set(session.id, session);
    return {
      onDidSendMessage: (message: { type?: string; event?: string; body?: { reason?: string } }) => {
        if (message.type !== 'event') return;
        if (message.event === 'stopped') {
          this.#stopped.add(session.id);
          if (this.#ourPauses.delete(session.id)) return;
          if (this.isEnabled(root)) void this.#pauseOthers(root, session);
        } else if (message.event === 'continued') {
          this.#stopped.delete(session.id);
        }
      },
      onWillReceiveMessage: (message: { type?: string; command?: string }) => {
        if (message.type !== 'request' || message.command !== 'continue') return;
        this.#stopped.delete(session.id);
        if (this.#ourContinues.delete(session.id)) return;
        if (this.isEnabled(root)) void this.#continueOthers(root, session);
      },
      onExit: () => this.#forget(session.id),
      onError: () => undefined,
    };
  }

  #others(root: vscode.DebugSession, except: vscode.DebugSession): vscode.DebugSession[] {
    return [...this.#sessions.values()].filter((s) => s.id !== except.id && forkscopeRootOf(s)?.id === root.id);
  }

  async #pauseOthers(root: vscode.DebugSession, origin: vscode.DebugSession): Promise<void> {
    await Promise.all(
      this.#others(root, origin)
        .filter((s) => !this.#stopped.has(s.id))
        .map(async (s) => {
          const threads = await threadsOf(s);
          if (threads.length === 0) return; // js-debug's outer attach session holds no thread; its target does
          this.#ourPauses.add(s.id);
          await Promise.all(threads.map((threadId) => s.customRequest('pause', { threadId }).then(undefined, () => undefined)));
        }),
    );
  }

  async #continueOthers(root: vscode.DebugSession, origin: vscode.DebugSession): Promise<void> {
    await Promise.all(
      this.#others(root, origin)
        .filter((s) => this.#stopped.has(s.id))
        .map(async (s) => {
          const threads = await threadsOf(s);
          this.#ourContinues.add(s.id);
          this.#stopped.delete(s.id);
          await Promise.all(threads.map((threadId) => s.customRequest('continue', { threadId }).then(undefined, () => undefined)));
        }),
    );
  }

  #forget(id: string): void {
    this.#sessions.delete(id);
    this.#stopped.delete(id);
    this.#ourPauses.delete(id);
    this.#ourContinues.delete(id);
  }

  dispose(): void {
    this.#sessions.clear();
  }
}

async function threadsOf(session: vscode.DebugSession): Promise<number[]> {
  try {
    const reply = (await session.customRequest('threads')) as { threads?: Array<{ id: number }> };
    return (reply.threads ?? []).map((t) => t.id);
  } catch {
    return [];
  }
}
