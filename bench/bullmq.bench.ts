// Tasks per second through the bullmq backend with 1, 2 and 4 local `forkscope worker` processes, beside BullMQ
// used directly for the same jobs in the same run: the same task (x*x over 0..N-1, one job per item), the same window
// of jobs in flight, the same Redis and worker settings (concurrency, lock and stall times). Needs `npm run build`
// (the caller and the workers run the built runtime) and redis-server. Goal: Forkscope's overhead over raw BullMQ at most 10%
// (ratio ≥ 1/1.1 ≈ 0.91).
//
// Steadiness on a shared machine: for each worker count both sides' workers are started once and warmed up, then
// the sides take turns (the one going first alternates) for ROUNDS rounds, and each side's best round counts.
// Each round's sides ran back to back under much the same load, so the median of the per-round ratios (with their
// range) is printed beside the best-of ratio. FORKSCOPE_BENCH_BULLMQ_BASELINE=<another checkout, built> adds that
// checkout's caller and workers as a third side, for an A/B of a change in the same run.
// FORKSCOPE_BENCH_BULLMQ_STATS=1 also prints, per side, CPU time per job of the caller, the workers and Redis,
// and the Redis commands per job (INFO commandstats), for the last round of each.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type IORedis from 'ioredis';
import { square } from '../test/fixtures/bullmq-tasks';
import { ROOT, startRedis, startWorker, type Redis } from '../test/runtime/bullmqCluster';

const COUNT = Number(process.env.FORKSCOPE_BENCH_BULLMQ_TASKS ?? 5_000);
const ROUNDS = Number(process.env.FORKSCOPE_BENCH_RUNS ?? 3);
const WARMUP = Math.min(COUNT, 1_000);
/** Jobs in flight at once, for both: Pool({ processes: WINDOW }) and the raw caller's window. */
const WINDOW = 64;
const CONCURRENCY = 8;
const GOAL = 1 / 1.1;
const STATS = process.env.FORKSCOPE_BENCH_BULLMQ_STATS === '1';
const BASELINE = process.env.FORKSCOPE_BENCH_BULLMQ_BASELINE;

interface Side {
  name: string;
  /** Process group leaders of the workers (for their CPU time). */
  pids: number[];
  /** Runs `count` tasks; resolves with the seconds they took. */
  round(count: number): Promise<number>;
  close(): Promise<void>;
}

const items = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

function check(results: ArrayLike<number>, count: number, who: string): void {
  for (let i = 0; i < count; i++) if (results[i] !== i * i) throw new Error(`${who}: wrong result for ${i}: ${results[i]}`);
}

/**
 * The built runtime of a checkout (this one, or a baseline's), as a program that installed forkscope runs it (the
 * source through tsx pays for its keepNames). A baseline's workers serve this checkout's fixture (--root here).
 */
export async function ours(redis: Redis, workers: number, prefix: string, root = ROOT, name = 'forkscope Pool.map'): Promise<Side> {
  const { getContext } = require(join(root, 'runtime', 'dist', 'index.cjs')) as typeof import('../runtime/src/index');
  const cli = join(root, 'runtime', 'bin', 'forkscope.js');
  const started = await Promise.all(
    Array.from({ length: workers }, (_, i) =>
      startWorker(redis.url, `${prefix}w${i}`, ['--prefix', prefix, '--concurrency', String(CONCURRENCY), '--root', ROOT], { cli }),
    ),
  );
  const ctx = getContext('bullmq', { connection: redis.url, prefix });
  const pool = new ctx.Pool({ processes: WINDOW });
  return {
    name,
    pids: started.map((w) => w.child.pid!),
    async round(count) {
      const t0 = performance.now();
      const results = await pool.map(square, items(count), { chunksize: 1 });
      const seconds = (performance.now() - t0) / 1000;
      check(results, count, 'forkscope');
      return seconds;
    },
    async close() {
      pool.close();
      await pool.join();
      await ctx.close();
      for (const w of started) w.signal('SIGKILL');
      await Promise.all(started.map((w) => w.exited));
    },
  };
}

export async function raw(redis: Redis, workers: number, prefix: string): Promise<Side> {
  const { Queue, QueueEvents } = (await import('bullmq')) as typeof import('bullmq');
  const children: ChildProcess[] = Array.from({ length: workers }, () =>
    spawn(process.execPath, [join(__dirname, 'programs', 'bullmq-raw-worker.cjs'), redis.url, prefix, 'tasks', String(CONCURRENCY)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    }),
  );
  const exited = children.map((c) => new Promise((r) => c.once('exit', r)));
  await Promise.all(children.map((c) => new Promise<void>((r) => c.stdout!.once('data', () => r()))));
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const queue = new Queue('tasks', { connection, prefix, defaultJobOptions: { attempts: 1, removeOnComplete: { age: 600 }, removeOnFail: { age: 3600 } } });
  const client = (await queue.client) as unknown as IORedis;
  // Events are read from before the first job is added (as the backend does), so none is missed.
  const [s, us] = await client.time();
  const events = new QueueEvents('tasks', { connection, prefix, lastEventId: `${Number(s) * 1000 + Math.floor(Number(us) / 1000) - 1}-0` });
  await events.waitUntilReady();
  let roundNo = 0;
  return {
    name: 'BullMQ directly',
    pids: children.map((c) => c.pid!),
    round(count) {
      const tag = `r${++roundNo}-`;
      return new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        const results = new Array<number>(count);
        let next = 0;
        let done = 0;
        const add = () => {
          const x = next++;
          queue.add('square', { x }, { jobId: `${tag}${x}` }).catch(reject);
        };
        const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
          if (!jobId.startsWith(tag)) return;
          const x = Number(jobId.slice(tag.length));
          if (results[x] !== undefined) return;
          results[x] = Number(returnvalue);
          if (++done === count) {
            events.off('completed', onCompleted);
            const seconds = (performance.now() - t0) / 1000;
            try {
              check(results, count, 'BullMQ directly');
              resolve(seconds);
            } catch (error) {
              reject(error);
            }
          } else if (next < count) add();
        };
        events.on('completed', onCompleted);
        for (let i = 0; i < Math.min(WINDOW, count); i++) add();
      });
    },
    async close() {
      await events.close();
      await queue.close();
      for (const c of children) {
        try {
          process.kill(-c.pid!, 'SIGKILL');
        } catch {
          // Gone.
        }
      }
      await Promise.all(exited);
    },
  };
}

/** CPU ms of every process in a process group (Linux; 0 elsewhere). */
function groupCpuMs(pgid: number): number {
  let ticks = 0;
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
      } catch {
        // Gone meanwhile.
      }
    }
  } catch {
    return 0;
  }
  return ticks * 10;
}

async function redisCpuMs(admin: IORedis): Promise<number> {
  const info = await admin.info('cpu');
  const read = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (read('used_cpu_user') + read('used_cpu_sys')) * 1000;
}

async function commandStats(admin: IORedis): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1], Number(m[2]));
  return calls;
}

interface Measured {
  seconds: number;
  stats?: string;
  /** µs of CPU per job, the caller's, the workers' and Redis's together (with FORKSCOPE_BENCH_BULLMQ_STATS=1). */
  cpuPerJob?: number;
}

export async function measure(side: Side, count: number, admin: IORedis | undefined): Promise<Measured> {
  if (!admin) return { seconds: await side.round(count) };
  await admin.config('RESETSTAT');
  const cpu0 = process.cpuUsage();
  const workers0 = side.pids.map(groupCpuMs);
  const redis0 = await redisCpuMs(admin);
  const seconds = await side.round(count);
  const cpu = process.cpuUsage(cpu0);
  const workers = side.pids.map((p, i) => groupCpuMs(p) - workers0[i]);
  const redisMs = (await redisCpuMs(admin)) - redis0;
  const commands = await commandStats(admin);
  const perJob = (ms: number) => `${Math.round((ms * 1000) / count)}`;
  let total = 0;
  for (const [name, n] of commands) if (name !== 'config|resetstat' && name !== 'config') total += n;
  const top = [...commands]
    .filter(([name]) => !name.startsWith('config'))
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${(n / count).toFixed(2)}`)
    .join(', ');
  return {
    seconds,
    cpuPerJob: ((cpu.user + cpu.system) / 1000 + workers.reduce((a, b) => a + b, 0) + redisMs) * (1000 / count),
    stats:
      `    ${side.name}: µs CPU per job: caller ${perJob((cpu.user + cpu.system) / 1000)}, workers ${workers.map(perJob).join('+')}, redis ${perJob(redisMs)}; ` +
      `wall ${perJob(seconds * 1000)} µs/job\n      Redis commands per job ${(total / count).toFixed(2)}: ${top}`,
  };
}

export default async function bullmqBench(): Promise<void> {
  const redis = await startRedis();
  let admin: IORedis | undefined;
  if (STATS) {
    const IORedisClass = ((await import('ioredis')) as unknown as { default: typeof IORedis }).default;
    admin = new IORedisClass({ host: '127.0.0.1', port: redis.port });
  }
  const started = performance.now();
  try {
    console.log(
      `${COUNT.toLocaleString('en-US')} tasks (x*x, one job each), ${WINDOW} in flight, workers of concurrency ${CONCURRENCY}, Redis on loopback; ` +
        `per worker count: ${WARMUP.toLocaleString('en-US')} warm-up tasks, then ${ROUNDS} rounds taken in turn, best of each`,
    );
    for (const workers of [1, 2, 4]) {
      const sides = [await raw(redis, workers, `raw${workers}`), await ours(redis, workers, `ours${workers}`)];
      if (BASELINE) sides.push(await ours(redis, workers, `base${workers}`, BASELINE, 'forkscope baseline'));
      try {
        for (const side of sides) await side.round(WARMUP);
        const best = sides.map(() => Infinity);
        const rates: number[][] = sides.map(() => []);
        const cpu: number[][] = sides.map(() => []);
        const stats: string[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          // The side going first rotates, so none always runs right after another's load.
          for (let k = 0; k < sides.length; k++) {
            const i = (round + k) % sides.length;
            const m = await measure(sides[i], COUNT, admin);
            best[i] = Math.min(best[i], m.seconds);
            rates[i].push(COUNT / m.seconds);
            if (m.cpuPerJob !== undefined) cpu[i].push(m.cpuPerJob);
            if (m.stats) stats[i] = m.stats;
          }
        }
        const fmt = (n: number): string => `${Math.round(n).toLocaleString('en-US')}/s`;
        /** Median and range of the per-round ratios of side a over side b. */
        const paired = (a: number, b: number, of = rates): string => {
          const r = of[a].map((x, k) => x / of[b][k]).sort((x, y) => x - y);
          const mid = r.length % 2 ? r[(r.length - 1) / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
          return `median ${mid.toFixed(2)}x (${r[0].toFixed(2)}-${r[r.length - 1].toFixed(2)})`;
        };
        const peer = COUNT / best[0];
        const mine = COUNT / best[1];
        const ratio = mine / peer;
        console.log(
          `${workers} worker(s): forkscope Pool.map ${fmt(mine)} vs BullMQ directly ${fmt(peer)} = ${ratio.toFixed(2)}x best of ${ROUNDS}, ` +
            `per round ${paired(1, 0)} (goal >= ${GOAL.toFixed(2)}x, overhead <= 10%) ${ratio >= GOAL ? 'ok' : 'BELOW GOAL'}`,
        );
        if (BASELINE) {
          console.log(
            `    baseline ${fmt(COUNT / best[2])} = ${(COUNT / best[2] / peer).toFixed(2)}x of BullMQ best of ${ROUNDS}, per round ${paired(2, 0)}; ` +
              `this checkout over baseline per round ${paired(1, 2)}`,
          );
        }
        console.log(
          `    rounds (/s): ${sides.map((side, i) => `${side.name} ${rates[i].map((r) => Math.round(r).toLocaleString('en-US')).join(', ')}`).join('; ')}`,
        );
        if (cpu[0].length > 0) {
          // CPU time a job costs everyone (caller, workers, Redis): a load that stretches wall time stretches it far less.
          const per = (i: number) => `${sides[i].name} ${cpu[i].map((x) => Math.round(x)).join(', ')}`;
          console.log(
            `    CPU µs per job, all processes, per round: ${sides.map((_, i) => per(i)).join('; ')}; forkscope/BullMQ ${paired(1, 0, cpu)}` +
              (BASELINE ? `, baseline/BullMQ ${paired(2, 0, cpu)}, this checkout/baseline ${paired(1, 2, cpu)}` : ''),
          );
        }
        for (const s of stats) if (s) console.log(s);
      } finally {
        for (const side of sides) await side.close();
      }
    }
    console.log(`(bullmq bench took ${Math.round((performance.now() - started) / 1000)} s)`);
  } finally {
    admin?.disconnect();
    await redis.dispose();
  }
}

if (require.main === module) void bullmqBench();
