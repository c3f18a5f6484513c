// `forkscope worker --backend redis://… --concurrency N [--name NAME]`: the command line of serveWorker().
// SIGTERM (or Ctrl+C) finishes the jobs in hand and exits 0; a second one hands them back and exits at once.
import { serveWorker, type WorkerOptions } from './worker';
import { credentialsError } from './connection';
import { checkDebugKey, openDebugRelay } from './debugRelay';
import { ENV } from '../protocol';

export const WORKER_USAGE = `Usage: forkscope worker --backend redis://[user:password@]host:port[/db] [--concurrency N] [--name NAME]
                        [--prefix forkscope] [--queue tasks] [--root DIR]
                        [--lock-duration ms] [--stalled-interval ms] [--max-stalled N] [--debug-key SECRET]

Serves the tasks of programs that use getContext("bullmq", …) or FORKSCOPE_BACKEND on that Redis.
  --backend           the Redis to serve (default: FORKSCOPE_BACKEND)
  --concurrency       tasks run at once (default 1)
  --name              this worker's name in the cluster (default host-pid)
  --root              the deployment: tasks' modules must lie under it (default: the current directory)
  --lock-duration     a job whose worker went silent is taken back after this long (default 5000)
  --stalled-interval  how often to look for such jobs (default 5000)
  --max-stalled       runs again of a stalled job before it fails (default 1)
  --debug-key         a secret (16+ chars) that lets \`forkscope debug-worker\` attach through Redis (default FORKSCOPE_DEBUG_KEY)
SIGTERM finishes the tasks in hand and exits; a second SIGTERM hands them back at once.`;

/**
 * `--name value` and `--name=value` pairs of a command line, for the options `known`; `usage` itself for --help or
 * -h, or one line that says what is wrong (an unknown option, one without its value).
 */
function readOptions(argv: readonly string[], known: readonly string[], command: string, usage: string): Map<string, string> | string {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--help' || arg === '-h') return usage;
    if (!known.includes(arg)) return `${command}: unknown option ${arg}\n${usage}`;
    value ??= argv[++i];
    if (value === undefined || value === '') return `${command}: ${arg} needs a value`;
    given.set(arg, value);
  }
  return given;
}

function parse(argv: string[]): WorkerOptions | string {
  const options: WorkerOptions = {};
  const numbers: Record<string, keyof WorkerOptions> = {
    '--concurrency': 'concurrency',
    '--lock-duration': 'lockDuration',
    '--stalled-interval': 'stalledInterval',
    '--max-stalled': 'maxStalledCount',
  };
  const strings: Record<string, keyof WorkerOptions> = {
    '--backend': 'connection',
    '--name': 'name',
    '--prefix': 'prefix',
    '--queue': 'queue',
    '--root': 'root',
    '--debug-key': 'debugKey',
  };
  const given = readOptions(argv, [...Object.keys(numbers), ...Object.keys(strings)], 'forkscope worker', WORKER_USAGE);
  if (typeof given === 'string') return given;
  for (const [arg, value] of given) {
    const key = (numbers[arg] ?? strings[arg])!;
    if (numbers[arg]) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < (arg === '--max-stalled' ? 0 : 1))
        return `forkscope worker: ${arg} must be a whole number${arg === '--max-stalled' ? '' : ' ≥ 1'}, not ${JSON.stringify(value)}`;
      (options as Record<string, unknown>)[key] = n;
    } else (options as Record<string, unknown>)[key] = value;
  }
  if (!options.connection && !process.env.FORKSCOPE_BACKEND)
    return `forkscope worker: say which Redis to serve: --backend redis://host:6379 (or FORKSCOPE_BACKEND)`;
  return options;
}

/** Runs the worker until a signal stops it; resolves with the exit code. */
export async function workerCommand(argv: string[]): Promise<number> {
  const options = parse(argv);
  if (typeof options === 'string') {
    (options === WORKER_USAGE ? process.stdout : process.stderr).write(`${options}\n`);
    return options === WORKER_USAGE ? 0 : 2;
  }
  let worker: Awaited<ReturnType<typeof serveWorker>>;
  try {
    worker = await serveWorker(options);
  } catch (error) {
    const refused = credentialsError(error, String(options.connection ?? process.env.FORKSCOPE_BACKEND ?? '').replace(/\/\/[^@/]*@/, '//'));
    process.stderr.write(`forkscope worker: ${refused?.message ?? (error instanceof Error ? error.message : String(error))}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let signals = 0;
    const stop = (signal: NodeJS.Signals) => {
      signals++;
      const force = signals > 1;
      process.stdout.write(
        `forkscope worker ${worker.announcement.name}: ${signal}, ${force ? 'handing back the tasks in hand' : 'finishing the tasks in hand'}\n`,
      );
      void worker.close(force).then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

export const DEBUG_WORKER_USAGE = `Usage: forkscope debug-worker --backend redis://… --name WORKER [--prefix forkscope] [--queue tasks]
                              [--port N] [--debug-key SECRET]

Attaches to a remote \`forkscope worker\` started with the same --debug-key (or FORKSCOPE_DEBUG_KEY): the worker opens
its inspector on its own loopback and relays it, sealed (AES-256-GCM), through Redis; this command offers it on
127.0.0.1:PORT here and prints the ws:// URL to attach a debugger to (VS Code: a "node" attach with that port).
Runs until SIGINT/SIGTERM.`;

/** `forkscope debug-worker`: relays a remote worker's inspector to a loopback port here until a signal. */
export async function debugWorkerCommand(argv: string[]): Promise<number> {
  const given = readOptions(argv, ['--backend', '--name', '--prefix', '--queue', '--port', '--debug-key'], 'forkscope debug-worker', DEBUG_WORKER_USAGE);
  if (typeof given === 'string') {
    (given === DEBUG_WORKER_USAGE ? process.stdout : process.stderr).write(`${given}\n`);
    return given === DEBUG_WORKER_USAGE ? 0 : 2;
  }
  const values = Object.fromEntries([...given].map(([arg, value]) => [arg.slice(2), value])) as Record<string, string>;
  if (!values.name) {
    process.stderr.write(`forkscope debug-worker: say which worker: --name WORKER\n`);
    return 2;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`forkscope debug-worker: --port must be a port number, not ${JSON.stringify(values.port)}\n`);
    return 2;
  }
  try {
    const secret = checkDebugKey(values['debug-key'] ?? process.env[ENV.debugKey], 'forkscope debug-worker');
    const options = {
      worker: values.name,
      secret,
      port,
      ...(values.backend ? { connection: values.backend } : {}),
      ...(values.prefix ? { prefix: values.prefix } : {}),
      ...(values.queue ? { queue: values.queue } : {}),
    };
    const relay = await openDebugRelay(options);
    process.stdout.write(`forkscope debug-worker: worker ${values.name} (pid ${relay.pid}) is at ${relay.url}\n`);
    return await new Promise<number>((resolve) => {
      const stop = () => void relay.close().then(() => resolve(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      void relay.ended.then(() => {
        process.stdout.write(`forkscope debug-worker: worker ${values.name} ended the debug session (it stopped)\n`);
        void relay.close().then(() => resolve(0));
      });
    });
  } catch (error) {
    process.stderr.write(`forkscope debug-worker: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
