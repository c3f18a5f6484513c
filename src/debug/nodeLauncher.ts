// Runs a program under a hub: Node (tsx for TypeScript, inherited by every child through NODE_OPTIONS) in its
// own process group, its announcements relayed, and one terminate() that ends the whole tree. No `vscode`.
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { ProgramSnapshot } from '../../hub/snapshot';
import { TraceRecorder } from '../../hub/traceRecorder';
import { probeNodeTypeScript, type Hello, type NodeTypeScript, type ProcessKey, type RuntimeEvent } from '../../runtime/src/protocol';
import type { AnnouncedProcess, LaunchHost, LaunchSpec, OutputCategory, ProgramLauncher, RunningProgram } from './programHost';
import { LaunchedProgram } from './launchedProgram';
import { TerminalProgram } from './terminalProgram';
import { SESSION_MARKER_ENV } from './processTree';
import { appendNodeOption } from '../../hub/hub';
import { findInPackage, typeScriptNodeOptions, TYPESCRIPT_PROGRAM } from '../../hub/typeScriptOptions';

/** What the launcher needs of the hub (hub/hub.ts's Hub has it); a test can hand in a fake. */
export interface ProgramHub {
  start(): Promise<{ env: Record<string, string> }>;
  onProcess(listener: (process: AnnouncedProcess) => void): () => void;
  processExited?(pid: number, exitCode: number | null, signal: string | null): void;
  /** Each hello and event batch, for the session's trace recorder (a hub without them records nothing). */
  onHello?(listener: (key: ProcessKey, hello: Hello) => void): () => void;
  onEvents?(listener: (key: ProcessKey, events: readonly RuntimeEvent[]) => void): () => void;
  close(): Promise<void>;
}

export interface NodeLauncherOptions {
  /** A fresh hub per launch, told whether to ask for debugging and single-process mode, and where snapshots go. */
  createHub(spec: LaunchSpec, onSnapshot: (snapshot: ProgramSnapshot) => void): ProgramHub;
  /** Folders to look for a TypeScript loader (forkscope's, else tsx) in after the program's own; the extension passes its install folder. */
  tsxSearchPaths?: string[];
}

/** Node's inspector banner, printed by every debugged process: noise in the Debug Console, where sessions already show. */
const INSPECTOR_BANNER =
  /^(Debugger listening on ws:\/\/\S+|For help, see: https:\/\/nodejs\.org\/\S+|Debugger attached\.|Debugger ending on ws:\/\/\S+|Waiting for the debugger to disconnect\.\.\.)\r?\n/gm;

/** A program's stderr without the inspector's own lines (Node 20's help link and Node 22/24's alike). */
export function withoutInspectorBanner(stderr: string): string {
  return stderr.replace(INSPECTOR_BANNER, '');
}

export class NodeLauncher implements ProgramLauncher {
  readonly #options: NodeLauncherOptions;

  constructor(options: NodeLauncherOptions) {
    this.#options = options;
  }

  async launch(spec: LaunchSpec, host?: LaunchHost): Promise<RunningProgram> {
    const snapshots: Array<(snapshot: ProgramSnapshot) => void> = [];
    const hub = this.#options.createHub(spec, (snapshot) => {
      for (const l of snapshots) l(snapshot);
    });
    // Recorded from the start, so Export Trace at any moment has the whole run.
    const recorder = new TraceRecorder();
    hub.onHello?.((key, hello) => recorder.hello(key, hello));
    hub.onEvents?.((key, events) => recorder.events(key, events));
    const session = await hub.start();
    const marker = randomUUID();
    const env: NodeJS.ProcessEnv = { ...process.env, ...session.env, [SESSION_MARKER_ENV]: marker };
    for (const [name, value] of Object.entries(spec.env)) {
      if (name === 'NODE_OPTIONS') continue;
      if (value === null) delete env[name];
      else env[name] = value;
    }
    const nodeOptions = [spec.env.NODE_OPTIONS ?? undefined, session.env.NODE_OPTIONS];
    if (TYPESCRIPT_PROGRAM.test(spec.program)) {
      // Node's own type stripping where the runtimeExecutable has it, else the runtime's loader; in
      // NODE_OPTIONS so every child inherits it.
      const node = await nodeTypeScriptOf(spec.runtimeExecutable, spec.cwd);
      const options = typeScriptNodeOptions(spec.program, node, [path.dirname(spec.program), spec.cwd, ...(this.#options.tsxSearchPaths ?? [])]);
      if (typeof options === 'string') {
        await hub.close();
        throw new Error(options);
      }
      for (const [flag, value] of options) nodeOptions.push(value === undefined ? flag : appendNodeOption(undefined, flag, value));
    }
    env.NODE_OPTIONS = nodeOptions.filter((o): o is string => !!o).join(' ');
    if (spec.console === 'integratedTerminal' && host?.runInTerminal) {
      // The terminal starts from its own environment: hand it only what this launch adds or removes.
      const added: Record<string, string | null> = { ...session.env, [SESSION_MARKER_ENV]: marker, ...spec.env, NODE_OPTIONS: env.NODE_OPTIONS };
      const args = [spec.runtimeExecutable, ...spec.runtimeArgs, spec.program, ...spec.args];
      try {
        await host.runInTerminal({ title: `Forkscope: ${path.basename(spec.program)}`, cwd: spec.cwd, args, env: added });
      } catch (error) {
        await hub.close();
        throw error;
      }
      return new TerminalProgram(hub, marker, snapshots, recorder);
    }
    const child = spawn(spec.runtimeExecutable, [...spec.runtimeArgs, spec.program, ...spec.args], {
      cwd: spec.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so Stop can signal the whole group at once.
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', resolve);
    });
    if (spawned) {
      await hub.close();
      throw spawned;
    }
    return new HubProgram(child.pid!, hub, child, marker, snapshots, recorder);
  }
}

/** A program the adapter spawned itself: its output piped to the Debug Console, its end seen on the child handle. */
export class HubProgram extends LaunchedProgram {
  readonly pid: number;
  readonly #outputListeners: Array<(c: OutputCategory, t: string) => void> = [];
  readonly #bufferedOutput: Array<[OutputCategory, string]> = [];

  constructor(
    pid: number,
    hub: ProgramHub,
    child: import('node:child_process').ChildProcess,
    marker: string,
    snapshotListeners: Array<(snapshot: ProgramSnapshot) => void>,
    recorder: TraceRecorder,
  ) {
    super(hub, marker, snapshotListeners, recorder);
    this.pid = pid;
    for (const [stream, category] of [
      [child.stdout!, 'stdout'],
      [child.stderr!, 'stderr'],
    ] as const) {
      stream.setEncoding('utf8');
      stream.on('data', (raw: string) => {
        const text = category === 'stderr' ? withoutInspectorBanner(raw) : raw;
        if (text === '') return;
        if (this.#outputListeners.length === 0) this.#bufferedOutput.push([category, text]);
        for (const l of this.#outputListeners) l(category, text);
      });
    }
    child.on('exit', (code, signal) => this.exited(pid, code, signal));
  }

  onOutput(listener: (category: OutputCategory, text: string) => void): void {
    this.#outputListeners.push(listener);
    for (const [c, t] of this.#bufferedOutput.splice(0)) listener(c, t);
  }
}

/** The preload of the runtime the program itself uses (its `forkscope` package), so versions match; else undefined. */
export function findRuntimePreload(searchFrom: string[]): string | undefined {
  return findInPackage(searchFrom, 'forkscope', 'dist/preload.cjs');
}

const probed = new Map<string, Promise<NodeTypeScript>>();
/** What the program's Node can do with TypeScript, asked of it once per executable (it may not be the adapter's Node). */
function nodeTypeScriptOf(executable: string, cwd: string): Promise<NodeTypeScript> {
  const key = `${executable}\0${cwd}`;
  let known = probed.get(key);
  if (!known) {
    const script = `process.stdout.write(JSON.stringify((${probeNodeTypeScript.toString()})()))`;
    known = new Promise((resolve) => {
      // NODE_OPTIONS of the adapter's own environment must not change the answer (or fail the probe).
      execFile(executable, ['-e', script], { cwd, timeout: 20_000, env: { ...process.env, NODE_OPTIONS: '' }, windowsHide: true }, (error, stdout) => {
        try {
          resolve(error ? { stripsTypes: false, transformTypes: false } : (JSON.parse(stdout) as NodeTypeScript));
        } catch {
          resolve({ stripsTypes: false, transformTypes: false });
        }
      });
    });
    probed.set(key, known);
  }
  return known;
}
