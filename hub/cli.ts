// `forkscope run <program.ts|js> [args]`: runs a program under a hub in a terminal, passes its output
// through unchanged, draws its process tree, reports deadlocks, writes a trace, exits with its code.
// Bundled to runtime/dist/cli.cjs; never imports vscode.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { constants } from 'node:os';
import { appendNodeOption, Hub } from './hub';
import { typeScriptNodeOptions } from './typeScriptOptions';
import { ObserverServer } from './observer';
import { TraceRecorder } from './traceRecorder';
import { describeProcess, renderTree } from './treeView';
import type { Deadlock, ProgramSnapshot } from './snapshot';
import { ENV, probeNodeTypeScript } from '../runtime/src/protocol';
import { _debugWorkerCommand, _workerCommand } from '../runtime/src/bundle';

const USAGE = `Usage: forkscope run <program.ts|js> [args…] [--trace out.json] [--single-process] [--inspect] [--quiet]
       forkscope worker --backend redis://host:6379 [--concurrency N] [--name NAME]   (forkscope worker --help)
       forkscope debug-worker --backend redis://host:6379 --name NAME   (forkscope debug-worker --help)

  --trace <file>     write a Chrome trace-event file (open it in https://ui.perfetto.dev)
  --single-process   run the whole program in one process (FORKSCOPE_SINGLE_PROCESS=1)
  --inspect          every process opens a loopback inspector and waits for a debugger;
                     prints the hub address and token for a "forkscope" attach configuration
  --snapshot <file>  write the program model's final snapshot as JSON (for scripts and tests)
  --record <file>    write every hello and event batch as JSON lines (replay them into a ProgramModel)
  --quiet            print only deadlocks and errors
Forkscope's options may come before or after the program; everything after "--" goes to the program.`;

interface Options {
  program: string;
  args: string[];
  trace?: string;
  snapshot?: string;
  record?: string;
  singleProcess: boolean;
  inspect: boolean;
  quiet: boolean;
}

function parse(argv: string[]): Options | string {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') return `forkscope ${version()}`;
  if (command !== 'run') return USAGE;
  const options: Partial<Options> & { args: string[] } = { args: [], singleProcess: false, inspect: false, quiet: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--') {
      const tail = rest.slice(i + 1);
      if (options.program === undefined) options.program = tail.shift();
      options.args.push(...tail);
      break;
    }
    if (arg === '--trace') {
      const file = rest[++i];
      if (!file) return 'forkscope: --trace needs a file name';
      options.trace = file;
    } else if (arg.startsWith('--trace=')) options.trace = arg.slice('--trace='.length);
    else if (arg === '--snapshot') {
      const file = rest[++i];
      if (!file) return 'forkscope: --snapshot needs a file name';
      options.snapshot = file;
    } else if (arg.startsWith('--snapshot=')) options.snapshot = arg.slice('--snapshot='.length);
    else if (arg === '--record') {
      const file = rest[++i];
      if (!file) return 'forkscope: --record needs a file name';
      options.record = file;
    } else if (arg === '--single-process') options.singleProcess = true;
    else if (arg === '--inspect') options.inspect = true;
    else if (arg === '--quiet') options.quiet = true;
    else if (arg === '--help' || arg === '-h') return USAGE;
    else if (options.program === undefined) options.program = arg;
    else options.args.push(arg);
  }
  if (!options.program) return USAGE;
  return options as Options;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Whether this process is in its terminal's foreground group, where Ctrl-C's SIGINT reaches the program too. */
function terminalInterruptedGroup(): boolean {
  try {
    // /proc/self/stat: "pid (comm) state ppid pgrp session tty_nr tpgid …"; comm may hold spaces.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [pgrp, tpgid] = [Number(fields[2]), Number(fields[5])];
    return tpgid > 0 && tpgid === pgrp;
  } catch {
    // No /proc (macOS, Windows): a terminal on stdin is the best sign that Ctrl-C came from it.
    return Boolean(process.stdin.isTTY);
  }
}

/** Writes the program's output and keeps a redrawn status block under it (TTY only). */
class Screen {
  #block = 0;
  #midLine = false;
  #lines: string[] = [];

  constructor(readonly tty: boolean) {}

  output(stream: NodeJS.WriteStream, chunk: Buffer): void {
    this.#clear();
    stream.write(chunk);
    if (chunk.length > 0) this.#midLine = chunk[chunk.length - 1] !== 0x0a;
    this.#draw();
  }

  note(line: string): void {
    this.#clear();
    process.stderr.write(`${line}\n`);
    this.#draw();
  }

  status(lines: string[]): void {
    if (!this.tty) return;
    this.#clear();
    this.#lines = lines;
    this.#draw();
  }

  end(): void {
    this.#clear();
    this.#lines = [];
  }

  #clear(): void {
    if (this.#block === 0) return;
    // Up to the block's first line, then clear to the end of the screen.
    process.stderr.write(`\x1b[${this.#block}F\x1b[J`);
    this.#block = 0;
  }

  #draw(): void {
    if (!this.tty || this.#midLine || this.#lines.length === 0) return;
    const width = process.stderr.columns || 100;
    const lines = ['─'.repeat(Math.min(width, 40)) + ' forkscope', ...this.#lines].map((l) => (l.length > width - 1 ? `${l.slice(0, width - 2)}…` : l));
    process.stderr.write(`\x1b[2m${lines.join('\n')}\x1b[0m\n`);
    this.#block = lines.length;
  }
}

async function main(): Promise<number> {
  // A cluster worker: serves tasks until a signal stops it, then exits even if a library left a handle open.
  if (process.argv[2] === 'worker') process.exit(await _workerCommand(process.argv.slice(3)));
  if (process.argv[2] === 'debug-worker') process.exit(await _debugWorkerCommand(process.argv.slice(3)));
  const parsed = parse(process.argv.slice(2));
  if (typeof parsed === 'string') {
    (parsed === USAGE || parsed.startsWith('forkscope ') ? process.stdout : process.stderr).write(`${parsed}\n`);
    return parsed === USAGE && process.argv[2] !== '--help' && process.argv[2] !== 'run' ? 2 : parsed.startsWith('forkscope:') ? 2 : 0;
  }
  const program = resolve(parsed.program);
  if (!existsSync(program)) {
    process.stderr.write(`forkscope: no such program: ${program}\n`);
    return 2;
  }
  const tty = Boolean(process.stdout.isTTY && process.stderr.isTTY);
  const screen = new Screen(tty);
  const recorder = parsed.trace ? new TraceRecorder() : undefined;
  const reported = new Map<string, Deadlock>();
  const closers: Array<() => Promise<void>> = [];
  const seen = new Map<string, string>();
  let latest: ProgramSnapshot | undefined;

  const onSnapshot = (snapshot: ProgramSnapshot): void => {
    latest = snapshot;
    for (const d of snapshot.deadlocks) {
      if (reported.has(d.message)) continue;
      reported.set(d.message, d);
      screen.note(`forkscope: ${d.message}`);
    }
    if (tty) screen.status(renderTree(snapshot, { now: Date.now() }));
    else if (!parsed.quiet) plainLines(snapshot, false);
  };
  // Plain lines: one "+" per process as it starts and one "-" as it ends. A process that came and went between
  // two snapshots gets its "+" with its "-"; the main process's "-" waits for the end, so it is the last line.
  const plainLines = (snapshot: ProgramSnapshot, final: boolean): void => {
    for (const p of snapshot.processes) {
      if (!seen.has(p.key) && (p.state !== 'starting' || final)) {
        seen.set(p.key, 'started');
        screen.note(`forkscope: + ${describeProcess(p.state === 'exited' ? { ...p, state: 'running', cpu: undefined } : p)}`);
      }
      if (p.state !== 'exited' || seen.get(p.key) === 'exited') continue;
      if (p.key === String(mainPid) && !final) continue;
      if (p.key !== String(mainPid)) {
        seen.set(p.key, 'exited');
        screen.note(`forkscope: - ${describeProcess(p)}`);
      }
    }
    if (!final) return;
    const main = snapshot.processes.find((p) => p.key === String(mainPid) && p.state === 'exited' && seen.get(p.key) !== 'exited');
    if (main) {
      seen.set(main.key, 'exited');
      screen.note(`forkscope: - ${describeProcess(main)}`);
    }
  };
  let mainPid: number | undefined;

  const hub = new Hub({ onSnapshot, snapshotIntervalMs: tty ? 100 : 250, debug: parsed.inspect, singleProcess: parsed.singleProcess });
  if (recorder) {
    hub.onHello((key, hello) => recorder.hello(key, hello));
    hub.onEvents((key, events) => recorder.events(key, events));
  }
  if (parsed.record) {
    // One JSON value per line: {key, hello} | {key, events}; the launcher's own exit report is an event too.
    const out = createWriteStream(resolve(parsed.record));
    hub.onHello((key, hello) => out.write(`${JSON.stringify({ key, hello: { ...hello, token: '' } })}\n`));
    hub.onEvents((key, events) => out.write(`${JSON.stringify({ key, events })}\n`));
    closers.push(() => new Promise<void>((r) => out.end(r)));
  }
  const session = await hub.start();
  const env: NodeJS.ProcessEnv = { ...process.env, ...session.env };
  // A TypeScript program runs on Node's own type stripping, else on the runtime's loader (the program's
  // own forkscope, else the one beside this CLI): in NODE_OPTIONS, so every child inherits it.
  const typeScript = typeScriptNodeOptions(program, probeNodeTypeScript(), [dirname(program), process.cwd()], __dirname);
  if (typeof typeScript === 'string') {
    process.stderr.write(`forkscope: ${typeScript}\n`);
    await hub.close();
    return 2;
  }
  for (const [flag, value] of typeScript)
    env.NODE_OPTIONS = value === undefined ? [env.NODE_OPTIONS, flag].filter(Boolean).join(' ') : appendNodeOption(env.NODE_OPTIONS, flag, value);
  if (tty && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = '1';
  let observer: ObserverServer | undefined;
  if (parsed.inspect) {
    // A debugger joins through the observer channel (same token): it learns each process and its inspector.
    observer = new ObserverServer(session.token);
    const address = await observer.listen();
    hub.onProcess((p) => observer!.publish({ t: 'process', process: p }));
    // Someone at a terminal needs longer than a launch's 30 s to start the attach session.
    env[ENV.debugWaitMs] ??= '300000';
    screen.note(`forkscope: hub ${session.address}`);
    screen.note(`forkscope: token ${session.token}`);
    screen.note('forkscope: every process waits for a debugger; attach with this launch.json configuration:');
    screen.note(JSON.stringify({ type: 'forkscope', request: 'attach', name: 'Attach to forkscope run', address, token: session.token }));
  }

  const child: ChildProcess = spawn(process.execPath, [program, ...parsed.args], {
    env,
    stdio: ['inherit', tty ? 'pipe' : 'inherit', tty ? 'pipe' : 'inherit'],
  });
  mainPid = child.pid;
  child.stdout?.on('data', (chunk: Buffer) => screen.output(process.stdout, chunk));
  child.stderr?.on('data', (chunk: Buffer) => screen.output(process.stderr, chunk));
  // Ctrl-C at a terminal reaches the whole foreground process group, the program included: it decides
  // what that means and we wait for it. A SIGINT sent to this pid alone (kill, timeout) is passed on.
  const forward = (signal: NodeJS.Signals) => () => {
    if (signal !== 'SIGINT' || !terminalInterruptedGroup()) child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward(signal));

  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => {
    child.on('error', (error) => {
      process.stderr.write(`forkscope: could not start ${program}: ${error.message}\n`);
      done([127, null]);
    });
    child.on('exit', (c, s) => done([c, s]));
  });
  await new Promise<void>((r) => (child.stdout && !child.stdout.readableEnded ? child.stdout.once('end', r) : r()));
  if (child.pid !== undefined) {
    const exitCode = signal ? -(constants.signals[signal] ?? 0) : code;
    hub.processExited(child.pid, exitCode, signal);
  }
  // Read the last frames of processes that just ended: each connection closes after its last frame.
  // (A daemon grandchild that outlives the program keeps its own open; it is not waited for long.)
  await hub.settle(1_000);
  hub.publish();
  await hub.close();
  observer?.publish({ t: 'exit', code, signal });
  await observer?.close();
  for (const close of closers) await close();
  if (!tty && !parsed.quiet) plainLines(hub.model.snapshot(), true);
  screen.end();
  if (recorder && parsed.trace) {
    recorder.writeTo(resolve(parsed.trace));
    if (!parsed.quiet) process.stderr.write(`forkscope: trace written to ${resolve(parsed.trace)} (open it in https://ui.perfetto.dev)\n`);
  }
  if (parsed.snapshot) writeFileSync(resolve(parsed.snapshot), JSON.stringify({ ...hub.model.snapshot(), deadlocksSeen: [...reported.values()] }, null, 1));
  if (tty && latest && !parsed.quiet) process.stderr.write(`${renderTree(hub.model.snapshot()).join('\n')}\n`);
  if (signal) {
    // Die the same way, so whoever runs us sees the same wait status.
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(s);
    process.kill(process.pid, signal);
    return 128 + (constants.signals[signal] ?? 0);
  }
  return code ?? 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`forkscope: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 70;
  },
);
