// What every program the launcher starts under a hub has in common, however it runs (a child of the adapter, or a
// command in the client's terminal): its announcements replayed to late listeners, its snapshots and trace, its end
// reported once, and one terminate() that ends its whole tree and the hub. No `vscode`.
import type { ProgramSnapshot } from '../../hub/snapshot';
import type { TraceRecorder } from '../../hub/traceRecorder';
import type { ProgramHub } from './nodeLauncher';
import type { AnnouncedProcess, OutputCategory, RunningProgram } from './programHost';
import { killProgramTree } from './processTree';

export abstract class LaunchedProgram implements RunningProgram {
  /** The main process's pid (0 while it is not known yet). */
  abstract readonly pid: number;
  readonly #hub: ProgramHub;
  readonly #marker: string;
  readonly #recorder: TraceRecorder;
  readonly #snapshotListeners: Array<(snapshot: ProgramSnapshot) => void>;
  readonly #announced: AnnouncedProcess[] = [];
  readonly #processListeners: Array<(p: AnnouncedProcess) => void> = [];
  readonly #exitListeners: Array<(code: number | null, signal: string | null) => void> = [];
  #exit: [number | null, string | null] | undefined;
  #terminated: Promise<void> | undefined;

  constructor(hub: ProgramHub, marker: string, snapshotListeners: Array<(snapshot: ProgramSnapshot) => void>, recorder: TraceRecorder) {
    this.#hub = hub;
    this.#marker = marker;
    this.#snapshotListeners = snapshotListeners;
    this.#recorder = recorder;
    hub.onProcess((p) => {
      this.#announced.push(p);
      this.announced(p);
      for (const l of this.#processListeners) l(p);
    });
  }

  onProcess(listener: (process: AnnouncedProcess) => void): void {
    this.#processListeners.push(listener);
    for (const p of this.#announced) listener(p);
  }

  abstract onOutput(listener: (category: OutputCategory, text: string) => void): void;

  onExit(listener: (exitCode: number | null, signal: string | null) => void): void {
    this.#exitListeners.push(listener);
    if (this.#exit) listener(...this.#exit);
  }

  onSnapshot(listener: (snapshot: ProgramSnapshot) => void): void {
    this.#snapshotListeners.push(listener);
  }

  exportTrace(path: string): void {
    this.#recorder.writeTo(path);
  }

  terminate(): Promise<void> {
    this.#terminated ??= (async () => {
      this.stopping();
      // The marker finds the program's processes even before the main one announced itself.
      await killProgramTree({ ...(this.pid ? { rootPid: this.pid } : {}), knownPids: this.#announced.map((p) => p.pid), marker: this.#marker });
      await this.#hub.close();
    })();
    return this.#terminated;
  }

  /** A process announced itself (before the listeners hear of it). */
  protected announced(_process: AnnouncedProcess): void {}

  /** terminate() is about to end the tree. */
  protected stopping(): void {}

  /** The main process ended: the hub and every exit listener, present and future, learn it. */
  protected exited(pid: number, code: number | null, signal: string | null): void {
    this.#hub.processExited?.(pid, code, signal);
    this.#exit = [code, signal];
    for (const l of this.#exitListeners) l(code, signal);
  }
}
