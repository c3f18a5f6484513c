// A program someone started with `forkscope run --inspect` in a terminal, seen through the CLI's observer channel:
// the RunningProgram the adapter follows on an `attach` request. Its output stays in that terminal. No `vscode`.
import type { ObserverConnection } from '../../hub/observer';
import type { AnnouncedProcess, OutputCategory, RunningProgram } from './programHost';
import { killProgramTree } from './processTree';

export class AttachedProgram implements RunningProgram {
  readonly #connection: ObserverConnection;
  readonly #announced = new Map<string, AnnouncedProcess>();
  readonly #exitListeners: Array<(code: number | null, signal: string | null) => void> = [];
  #exit: [number | null, string | null] | undefined;
  #terminated: Promise<void> | undefined;

  constructor(connection: ObserverConnection) {
    this.#connection = connection;
    connection.onProcess((p) => this.#announced.set(p.key, p));
    connection.onExit((code, signal) => this.#ended(code, signal));
    // The CLI went away without saying how its program ended (killed): the program is gone with it.
    connection.onClose(() => this.#ended(null, null));
  }

  /** The main process's pid (0 until it has announced itself). */
  get pid(): number {
    return [...this.#announced.values()].find((p) => p.role === 'main' || p.parent === undefined)?.pid ?? 0;
  }

  onProcess(listener: (process: AnnouncedProcess) => void): void {
    this.#connection.onProcess(listener);
  }

  onOutput(_listener: (category: OutputCategory, text: string) => void): void {
    // The program's output goes to the terminal that runs it.
  }

  onExit(listener: (exitCode: number | null, signal: string | null) => void): void {
    this.#exitListeners.push(listener);
    if (this.#exit) listener(...this.#exit);
  }

  /** Stops following the program; it goes on running. */
  detach(): void {
    this.#connection.close();
  }

  /** Ends every process of the program: the main process, what it announced, and their descendants. */
  terminate(): Promise<void> {
    this.#terminated ??= (async () => {
      const knownPids = [...this.#announced.values()].map((p) => p.pid);
      if (this.pid) await killProgramTree({ rootPid: this.pid, knownPids });
      this.#connection.close();
    })();
    return this.#terminated;
  }

  #ended(code: number | null, signal: string | null): void {
    if (this.#exit) return;
    this.#exit = [code, signal];
    for (const l of this.#exitListeners) l(code, signal);
  }
}
