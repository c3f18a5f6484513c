// A launched program that the client runs in its integrated terminal (DAP runInTerminal): no child handle, so its
// main process is known from its announcement and its end from polling that pid. Output stays in the terminal.
// No `vscode`.
import type { AnnouncedProcess, OutputCategory } from './programHost';
import { LaunchedProgram } from './launchedProgram';

/** How often the main process is checked for its end. */
const POLL_MS = 250;

export class TerminalProgram extends LaunchedProgram {
  #main: AnnouncedProcess | undefined;
  #poll: NodeJS.Timeout | undefined;

  /** The main process's pid (0 until it has announced itself). */
  get pid(): number {
    return this.#main?.pid ?? 0;
  }

  onOutput(_listener: (category: OutputCategory, text: string) => void): void {
    // The program writes to the terminal it runs in.
  }

  protected override announced(p: AnnouncedProcess): void {
    if (!this.#main && (p.role === 'main' || p.parent === undefined)) this.#watch(p);
  }

  protected override stopping(): void {
    if (this.#poll) clearInterval(this.#poll);
  }

  #watch(main: AnnouncedProcess): void {
    this.#main = main;
    this.#poll = setInterval(() => {
      if (alive(main.pid)) return;
      clearInterval(this.#poll);
      // The terminal's shell reaped it; its exit code is the terminal's to show.
      this.exited(main.pid, null, null);
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
