// The narrow seam between the debug adapter and whatever runs the program (a hub-backed Node launcher in
// VS Code, an injected fake in tests). No `vscode`, no DAP: plain data and callbacks.
import type { ProcessKey } from '../../runtime/src/protocol';
import type { ProcessNode, ProgramSnapshot } from '../../hub/snapshot';

/** One process or worker thread the program announced (the hub's hello, or the preload's): the model's
 * process fields that exist from the first frame on. */
export type AnnouncedProcess = Pick<ProcessNode, 'key' | 'pid' | 'threadId' | 'parent' | 'name' | 'role' | 'startMethod' | 'inspectorUrl'>;

/** What a launch asks for, already resolved from the launch configuration. */
export interface LaunchSpec {
  program: string;
  args: string[];
  cwd: string;
  /** Added to the inherited environment; `null` removes a variable. */
  env: Record<string, string | null>;
  runtimeExecutable: string;
  runtimeArgs: string[];
  /** Every process opens a loopback inspector and waits for its debugger (FORKSCOPE_DEBUG=1). */
  debug: boolean;
  /** The whole program runs in-process (FORKSCOPE_SINGLE_PROCESS=1). */
  singleProcess: boolean;
  /** `integratedTerminal`: the client runs the command line in a terminal (DAP runInTerminal); its output stays there. */
  console?: 'internalConsole' | 'integratedTerminal';
}

/** A command line for the client to run in its integrated terminal; `env` holds only what to add or remove. */
export interface TerminalCommand {
  title: string;
  cwd: string;
  args: string[];
  env: Record<string, string | null>;
}

/** What the debug client can do for a launch. */
export interface LaunchHost {
  /** Runs the command in the client's terminal (DAP `runInTerminal`); absent when the client cannot. */
  runInTerminal?(command: TerminalCommand): Promise<void>;
}

export type OutputCategory = 'stdout' | 'stderr' | 'console';

/** A running program: its announcements, output and end, and the one way to stop all of it. */
export interface RunningProgram {
  readonly pid: number;
  onProcess(listener: (process: AnnouncedProcess) => void): void;
  onProcessExit?(listener: (key: ProcessKey, exitCode: number | null) => void): void;
  onOutput(listener: (category: OutputCategory, text: string) => void): void;
  onExit(listener: (exitCode: number | null, signal: string | null) => void): void;
  /** The program model's snapshot, a few times a second while it changes (when a hub models the program). */
  onSnapshot?(listener: (snapshot: ProgramSnapshot) => void): void;
  /** Writes what the hub recorded so far as a Chrome trace-event file (when a hub records the program). */
  exportTrace?(path: string): void;
  /** Ends every process of the program, grandchildren and escaped double-forks included. */
  terminate(): Promise<void>;
}

export interface ProgramLauncher {
  launch(spec: LaunchSpec, host?: LaunchHost): Promise<RunningProgram>;
}
