// `forkscope worker`: serves the cluster's tasks in this process. Each BullMQ job names its target by module and
// export name; the module must be in this worker's deployment (under its root), or the task fails naming module,
// export and this host. Announces host, pid, capacity and the program it serves; SIGTERM finishes the jobs in hand.
// Runs in the worker process only.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Job, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { TargetNotExportedError } from '../errors';
import { ENV, type WorkerAnnouncement } from '../protocol';
import { checkDebugKey, serveDebugRequests } from './debugRelay';
import { self } from '../process';
import { loadTarget, type TargetRef } from '../targets';
import { useTypeScriptFor } from '../loader/typescript';
import { loadBullmq, probe, resolveBackend, credentialsError, hostName, type BullmqOptions } from './connection';
import { packValue, packThrown, unpackValue, isJsonExact, targetOf, type JobData, type JobResult } from './wire';
import { backendFor, useWorkerBackend } from './context';

export interface WorkerOptions extends BullmqOptions {
  /** Jobs run at once. @default 1 */
  concurrency?: number;
  /** This worker's name, unique in the cluster. @default `<host>-<pid>` */
  name?: string;
  /** The deployment: target modules must lie under it. @default process.cwd() */
  root?: string;
  /** A job whose worker stops renewing its lock is taken back after this long (ms). @default 5000 */
  lockDuration?: number;
  /** How often this worker looks for such stalled jobs (ms). @default 5000 */
  stalledInterval?: number;
  /** How many times a stalled job is run again before it fails. @default 1 */
  maxStalledCount?: number;
  /** A secret (16+ chars) that lets `forkscope debug-worker` attach through Redis; without one the worker cannot be debugged. @default FORKSCOPE_DEBUG_KEY */
  debugKey?: string;
  /** Where announcements go. @default stdout */
  log?: (line: string) => void;
}

export type Announcement = WorkerAnnouncement;

export interface ServingWorker {
  announcement: Announcement;
  /** Stops taking jobs and finishes the ones in hand (`force`: hands them back at once instead). */
  close(force?: boolean): Promise<void>;
}

/** How long a worker's registration outlives its last heartbeat. */
const HEARTBEAT_MS = 3_000;
const REGISTRATION_TTL_S = 10;
const COUNTS_REFRESH_MS = 200;

/** The program a deployment serves: the nearest package.json's name and version above `root`. */
function programOf(root: string): { program: string; version: string } {
  for (let dir = root; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        return { program: pkg.name ?? dir, version: pkg.version ?? 'unknown' };
      } catch {
        return { program: dir, version: 'unknown' };
      }
    }
    if (dirname(dir) === dir) return { program: root, version: 'unknown' };
  }
}

export async function serveWorker(options: WorkerOptions): Promise<ServingWorker> {
  const config = resolveBackend(options);
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError(`--concurrency must be a whole number ≥ 1, not ${options.concurrency}`);
  const host = hostName();
  const name = options.name ?? `${host}-${process.pid}`;
  const root = resolve(options.root ?? process.cwd());
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { program, version } = programOf(root);
  const debugKey = options.debugKey ?? process.env[ENV.debugKey];
  if (debugKey !== undefined) checkDebugKey(debugKey, `forkscope worker ${name}`);
  const backend = backendFor(options);
  useWorkerBackend(backend);
  // Importing the program's modules here must not start the program: isMainProcess() is false in a worker, as in a child.
  self.isMain = false;
  self.name = `ClusterWorker-${name}`;
  self.mainModule = undefined;

  const targets = new Map<string, Promise<Function>>();
  const missing = (ref: TargetRef, why: string) =>
    new TargetNotExportedError(
      `${ref.label}: module ${ref.module} (export ${ref.name}) is not in the deployment of worker ${name} on host ${host} (${why}); deploy the same program there`,
    );
  const target = (data: JobData): Promise<Function> => {
    const key = `${data.m}\u0000${data.r ?? ''}\u0000${data.n}`;
    let found = targets.get(key);
    if (!found) {
      const ref = targetOf(data);
      found = (async () => {
        const candidates = [ref.module, data.r ? resolve(root, data.r) : ''].filter((f) => f && isAbsolute(f));
        const file = candidates.find((f) => existsSync(f));
        if (!file) throw missing(ref, `no such file under ${root}`);
        const rel = relative(root, file);
        // Jobs name modules; only the deployment's own are imported.
        if (rel.startsWith('..') || isAbsolute(rel)) throw missing(ref, `it lies outside the worker's root ${root}`);
        useTypeScriptFor(file);
        try {
          return await loadTarget({ ...ref, module: file });
        } catch (error) {
          if (error instanceof TargetNotExportedError) throw missing(ref, 'the module has no such export');
          throw error;
        }
      })();
      targets.set(key, found);
      found.catch(() => targets.delete(key));
    }
    return found;
  };

  const ranBy = `${name}@${host}`;
  const counts = { running: 0, done: 0, failed: 0 };
  let counted: NodeJS.Timeout | undefined;
  let stopped = false;
  // The roll shows a worker's own counts: refreshed soon after a job ends, at most a few times a second.
  const countsChanged = () => {
    if (stopped) return;
    counted ??= setTimeout(() => {
      counted = undefined;
      // A job can end before the first registration below is written: `register` may not exist yet.
      if (!stopped)
        void Promise.resolve()
          .then(() => register())
          .catch(() => {});
    }, COUNTS_REFRESH_MS);
  };
  const processor = async (job: Job<JobData>): Promise<JobResult> => {
    const data = job.data;
    const st = data.c === undefined ? undefined : Date.now();
    counts.running++;
    try {
      const fn = await target(data);
      const items = data.p ?? ((await unpackValue(data.a!)) as unknown[]);
      const results: unknown[] = new Array(items.length);
      for (let i = 0; i < items.length; i++) results[i] = await (data.s ? fn(...(items[i] as unknown[])) : fn(items[i]));
      counts.done++;
      const result: JobResult = isJsonExact(results) ? { p: results } : { r: packValue(results, 'result') };
      // Who ran it matters only to a caller that reports to a hub; anyone else gets a result as small as a raw BullMQ job's.
      if (data.c !== undefined) {
        result.w = ranBy;
        result.wp = process.pid;
        result.st = st;
      }
      return result;
    } catch (error) {
      counts.failed++;
      // The caller reads the error back from the job: its class, name, message, remote stack, and where it ran.
      await job.updateData({ ...data, e: packThrown(error, { host, worker: name, pid: process.pid }), w: ranBy, wp: process.pid, st });
      const { UnrecoverableError } = loadBullmq();
      throw new UnrecoverableError(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    } finally {
      counts.running--;
      countsChanged();
    }
  };

  const { Worker: BullWorker } = loadBullmq();
  await probe(config);
  const worker: Worker = new BullWorker(config.queue, processor, {
    connection: config.redis,
    prefix: config.prefix,
    concurrency,
    name: ranBy,
    autorun: false,
    lockDuration: options.lockDuration ?? 5_000,
    stalledInterval: options.stalledInterval ?? 5_000,
    maxStalledCount: options.maxStalledCount ?? 1,
  });
  let refused: Error | undefined;
  worker.on('error', (error) => {
    const auth = credentialsError(error, config.address);
    if (auth && !refused) {
      refused = auth;
      log(`forkscope worker ${name}: ${auth.message}`);
      void worker.close(true).finally(() => (process.exitCode = 1));
      return;
    }
    if (!auth) log(`forkscope worker ${name}: ${error.message}`);
  });
  const client = (await Promise.race([
    worker.client,
    new Promise<never>((_, reject) => {
      const check = setInterval(() => {
        if (refused) {
          clearInterval(check);
          reject(refused);
        }
      }, 50);
      void worker.client.then(
        () => clearInterval(check),
        () => clearInterval(check),
      );
    }),
  ])) as unknown as Redis;
  void worker.run().catch((error: unknown) => log(`forkscope worker ${name}: ${(error as Error).message}`));
  await worker.waitUntilReady();

  const announcement: Announcement = {
    name,
    host,
    pid: process.pid,
    capacity: concurrency,
    program,
    version,
    queue: `${config.prefix}:${config.queue}`,
    startedAt: Date.now(),
  };
  // The cluster's roll of workers, for the hub and the view: a hash entry per worker and a key that expires with its heartbeat.
  const registry = `${config.prefix}:workers`;
  const alive = `${config.prefix}:worker:${name}`;
  // The object form: BullMQ's clients replace a transaction's hset with hset(key, fields) (hset(key, name, value) wrote the name's letters).
  const register = () =>
    client
      .multi()
      .hset(registry, { [name]: JSON.stringify({ ...announcement, ...counts }) })
      .set(alive, '1', 'EX', REGISTRATION_TTL_S)
      .exec();
  await register();
  const heartbeat = setInterval(() => void register().catch(() => {}), HEARTBEAT_MS);
  const stopDebug = debugKey ? serveDebugRequests({ ...options, worker: name, secret: debugKey, log }) : undefined;
  log(
    `forkscope worker ${name}: host ${host}, pid ${process.pid}, capacity ${concurrency}, serving ${program}@${version} from ${root}, queue ${announcement.queue} on redis ${config.address}`,
  );

  let closing: Promise<void> | undefined;
  return {
    announcement,
    close(force = false) {
      closing ??= (async () => {
        clearInterval(heartbeat);
        await stopDebug?.();
        await worker.close(force);
        stopped = true;
        clearTimeout(counted);
        await client
          .multi()
          .hdel(registry, name)
          .del(alive)
          .exec()
          .catch(() => {});
        await backend.close();
      })();
      return closing;
    },
  };
}
