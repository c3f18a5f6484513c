// A launched program that the client runs in its integrated terminal (DAP runInTerminal): no child handle, so its
// main process is known from its announcement and its end from polling that pid. Output stays in the terminal.
// No `vscode`.
import type { ProgramSnapshot } from '../hub/snapshot';
import type { TraceRecorder } from '../hub/traceRecorder';
import type { ProgramHub } from './nodeLauncher';
import type { AnnouncedProcess, OutputCategory, RunningProgram } from './programHost';
import { killProgramTree } from './processTree';

/** How often the main process is checked for its end. */
const POLL_MS = 250;

export class TerminalProgram implements RunningProgram {
  readonly #hub: ProgramHub;
  readonly #marker: string;
  readonly #recorder: TraceRecorder;
  readonly #snapshotListeners: Array<(snapshot: ProgramSnapshot) => void>;
  readonly #announced: AnnouncedProcess[] = [];
  readonly #processListeners: Array<(p: AnnouncedProcess) => void> = [];
  readonly #exitListeners: Array<(code: number | null, signal: string | null) => void> = [];
  #main: AnnouncedProcess | undefined;
  #poll: NodeJS.Timeout | undefined;
  #exited = false;
  #terminated: Promise<void> | undefined;

  constructor(hub: ProgramHub, marker: string, snapshotListeners: Array<(snapshot: ProgramSnapshot) => void>, recorder: TraceRecorder) {
    this.#hub = hub;
    this.#marker = marker;
    this.#snapshotListeners = snapshotListeners;
    this.#recorder = recorder;
    hub.onProcess((p) => {
      this.#announced.push(p);
      if (!this.#main && (p.role === 'main' || p.parent === undefined)) this.#watch(p);
      for (const l of this.#processListeners) l(p);
    });
  }

  /** The main process's pid (0 until it has announced itself). */
  get pid(): number {
    return this.#main?.pid ?? 0;
  }

  onProcess(listener: (process: AnnouncedProcess) => void): void {
    this.#processListeners.push(listener);
    for (const p of this.#announced) listener(p);
  }

  onOutput(_listener: (category: OutputCategory, text: string) => void): void {
    // The program writes to the terminal it runs in.
  }

  onExit(listener: (exitCode: number | null, signal: string | null) => void): void {
    this.#exitListeners.push(listener);
    if (this.#exited) listener(null, null);
  }

  onSnapshot(listener: (snapshot: ProgramSnapshot) => void): void {
    this.#snapshotListeners.push(listener);
  }

  exportTrace(path: string): void {
    this.#recorder.writeTo(path);
  }

  terminate(): Promise<void> {
    this.#terminated ??= (async () => {
      if (this.#poll) clearInterval(this.#poll);
      // The marker finds the program's processes even before the main one announced itself.
      await killProgramTree({ ...(this.pid ? { rootPid: this.pid } : {}), knownPids: this.#announced.map((p) => p.pid), marker: this.#marker });
      await this.#hub.close();
    })();
    return this.#terminated;
  }

  #watch(main: AnnouncedProcess): void {
    this.#main = main;
    this.#poll = setInterval(() => {
      if (alive(main.pid)) return;
      clearInterval(this.#poll);
      this.#exited = true;
      // The terminal's shell reaped it; its exit code is the terminal's to show.
      this.#hub.processExited?.(main.pid, null, null);
      for (const l of this.#exitListeners) l(null, null);
    }, POLL_MS);
    this.#poll.unref();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
