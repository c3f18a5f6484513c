// What the view does to the debugger: reveal a process's session in the Call Stack, pause, continue or
// stop one process, pause all. Every key was checked against the followed program's table by the caller.
import * as vscode from 'vscode';
import type { ProcessAction } from './messages';
import type { ProgramSessions } from './programSessions';

const ATTACH_WAIT_MS = 10_000;

/** The sessions of a process, innermost first (js-debug's target session holds the threads); a worker thread is reached through its process. */
function sessionsFor(sessions: ProgramSessions, key: string): vscode.DebugSession[] {
  const own = sessions.sessionsOf(key);
  return (own.length > 0 || !key.includes('/') ? own : sessions.sessionsOf(key.split('/')[0])).reverse();
}

async function threadIds(session: vscode.DebugSession): Promise<number[]> {
  try {
    const body = (await session.customRequest('threads')) as { threads?: Array<{ id: number }> } | undefined;
    return (body?.threads ?? []).map((t) => t.id).filter((id) => typeof id === 'number');
  } catch {
    return [];
  }
}

/** Sends pause or continue to every thread of the given sessions; true when some session took it. */
async function toThreads(targets: readonly vscode.DebugSession[], command: 'pause' | 'continue'): Promise<boolean> {
  let isDone = false;
  for (const session of targets) {
    for (const threadId of await threadIds(session)) {
      try {
        await session.customRequest(command, { threadId });
        isDone = true;
      } catch {
        // A thread that is already paused (or running) refuses; the others still get the request.
      }
    }
  }
  return isDone;
}

export class ProcessControls {
  readonly #sessions: ProgramSessions;

  constructor(sessions: ProgramSessions) {
    this.#sessions = sessions;
  }

  /** Focuses the process's debug session; under `attach: "onDemand"` asks the adapter to attach first. */
  async reveal(key: string): Promise<void> {
    let targets = sessionsFor(this.#sessions, key);
    const root = this.#sessions.followed;
    if (targets.length === 0 && root) {
      try {
        await root.customRequest('forkscope/attach', { key });
      } catch (error) {
        void vscode.window.showWarningMessage(`Forkscope: no debugger is attached to ${key} (${error instanceof Error ? error.message : String(error)}).`);
        return;
      }
      const deadline = Date.now() + ATTACH_WAIT_MS;
      while (targets.length === 0 && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 100));
        targets = sessionsFor(this.#sessions, key);
      }
    }
    const target = targets[0];
    if (!target) {
      void vscode.window.showWarningMessage(`Forkscope: process ${key} has no debug session.`);
      return;
    }
    try {
      // The API declares it `let`; a host whose getter refuses the write still gets the Call Stack focused below.
      (vscode.debug as { activeDebugSession: vscode.DebugSession | undefined }).activeDebugSession = target;
    } catch {
      // No other public API focuses a session.
    }
    await vscode.commands.executeCommand('workbench.debug.action.focusCallStackView').then(undefined, () => undefined);
  }

  async act(key: string, action: ProcessAction, pid: number | undefined): Promise<void> {
    if (action === 'stop') return this.#stop(key, pid);
    const isDone = await toThreads(sessionsFor(this.#sessions, key), action);
    if (!isDone) void vscode.window.showWarningMessage(`Forkscope: could not ${action} ${key}: no attached debugger answered.`);
  }

  async pauseAll(): Promise<void> {
    const isDone = await toThreads(this.#sessions.childSessions(), 'pause');
    if (!isDone) void vscode.window.showWarningMessage('Forkscope: no attached process could be paused.');
  }

  /** Ends one process: its debug session is detached and the process gets SIGTERM. */
  async #stop(key: string, pid: number | undefined): Promise<void> {
    if (key.includes('/') || pid === undefined) {
      void vscode.window.showWarningMessage('Forkscope: a worker thread cannot be stopped on its own; stop its process.');
      return;
    }
    for (const session of sessionsFor(this.#sessions, key).reverse()) await vscode.debug.stopDebugging(session).then(undefined, () => undefined);
    try {
      process.kill(pid, 'SIGTERM');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH')
        void vscode.window.showWarningMessage(`Forkscope: could not stop pid ${pid}: ${(error as Error).message}`);
    }
  }
}
