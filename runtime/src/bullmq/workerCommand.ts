// `forkscope worker --backend redis://… --concurrency N [--name NAME]`: the command line of serveWorker().
// SIGTERM (or Ctrl+C) finishes the jobs in hand and exits 0; a second one hands them back and exits at once.
import { serveWorker, type WorkerOptions } from './worker';
import { credentialsError } from './connection';

export const WORKER_USAGE = `Usage: forkscope worker --backend redis://[user:password@]host:port[/db] [--concurrency N] [--name NAME]
                        [--prefix forkscope] [--queue tasks] [--root DIR]
                        [--lock-duration ms] [--stalled-interval ms] [--max-stalled N]

Serves the tasks of programs that use getContext("bullmq", …) or FORKSCOPE_BACKEND on that Redis.
  --backend           the Redis to serve (default: FORKSCOPE_BACKEND)
  --concurrency       tasks run at once (default 1)
  --name              this worker's name in the cluster (default host-pid)
  --root              the deployment: tasks' modules must lie under it (default: the current directory)
  --lock-duration     a job whose worker went silent is taken back after this long (default 5000)
  --stalled-interval  how often to look for such jobs (default 5000)
  --max-stalled       runs again of a stalled job before it fails (default 1)
SIGTERM finishes the tasks in hand and exits; a second SIGTERM hands them back at once.`;

function parse(argv: string[]): WorkerOptions | string {
  const options: WorkerOptions = {};
  const numbers: Record<string, keyof WorkerOptions> = {
    '--concurrency': 'concurrency',
    '--lock-duration': 'lockDuration',
    '--stalled-interval': 'stalledInterval',
    '--max-stalled': 'maxStalledCount',
  };
  const strings: Record<string, keyof WorkerOptions> = { '--backend': 'connection', '--name': 'name', '--prefix': 'prefix', '--queue': 'queue', '--root': 'root' };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--help' || arg === '-h') return WORKER_USAGE;
    const key = numbers[arg] ?? strings[arg];
    if (!key) return `forkscope worker: unknown option ${arg}\n${WORKER_USAGE}`;
    value ??= argv[++i];
    if (value === undefined || value === '') return `forkscope worker: ${arg} needs a value`;
    if (numbers[arg]) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < (arg === '--max-stalled' ? 0 : 1)) return `forkscope worker: ${arg} must be a whole number${arg === '--max-stalled' ? '' : ' ≥ 1'}, not ${JSON.stringify(value)}`;
      (options as Record<string, unknown>)[key] = n;
    } else (options as Record<string, unknown>)[key] = value;
  }
  if (!options.connection && !process.env.FORKSCOPE_BACKEND) return `forkscope worker: say which Redis to serve: --backend redis://host:6379 (or FORKSCOPE_BACKEND)`;
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
      process.stdout.write(`forkscope worker ${worker.announcement.name}: ${signal}, ${force ? 'handing back the tasks in hand' : 'finishing the tasks in hand'}\n`);
      void worker.close(force).then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
