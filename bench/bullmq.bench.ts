// Tasks per second through the bullmq backend with 1, 2 and 4 local `forkscope worker` processes, beside BullMQ
// used directly for the same jobs (x*x, the same window of jobs in flight, the same Redis and worker settings)
// in the same run. Needs `npm run build` (the workers are the built CLI) and redis-server. Goal: Forkscope's overhead over raw BullMQ at most 10% (ratio ≥ 0.9).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { getContext } from '../runtime/src/index';
import { square } from '../test/fixtures/bullmq-tasks';
import { startRedis, startWorker, type Redis } from '../test/runtime/bullmqCluster';

const COUNT = Number(process.env.FORKSCOPE_BENCH_BULLMQ_TASKS ?? 2_000);
/** Jobs in flight at once, for both: Pool({ processes: WINDOW }) and the raw caller's window. */
const WINDOW = 64;
const CONCURRENCY = 8;

async function ours(redis: Redis, workers: number, prefix: string): Promise<number> {
  const started = await Promise.all(Array.from({ length: workers }, (_, i) => startWorker(redis.url, `w${i}`, ['--prefix', prefix, '--concurrency', String(CONCURRENCY)])));
  try {
    const ctx = getContext('bullmq', { connection: redis.url, prefix });
    await using pool = new ctx.Pool({ processes: WINDOW });
    await pool.map(square, [1, 2, 3], { chunksize: 1 });
    const items = Array.from({ length: COUNT }, (_, i) => i);
    const t0 = performance.now();
    const results = await pool.map(square, items, { chunksize: 1 });
    const seconds = (performance.now() - t0) / 1000;
    if (results[COUNT - 1] !== (COUNT - 1) ** 2) throw new Error('wrong result');
    await ctx.close();
    return COUNT / seconds;
  } finally {
    for (const w of started) w.signal('SIGKILL');
    await Promise.all(started.map((w) => w.exited));
  }
}

async function raw(redis: Redis, workers: number, prefix: string): Promise<number> {
  const { Queue, QueueEvents } = (await import('bullmq')) as typeof import('bullmq');
  const children = Array.from({ length: workers }, () =>
    spawn(process.execPath, [join(__dirname, 'programs', 'bullmq-raw-worker.cjs'), redis.url, prefix, 'tasks', String(CONCURRENCY)], { stdio: ['ignore', 'pipe', 'inherit'], detached: true }),
  );
  await Promise.all(children.map((c) => new Promise<void>((r) => c.stdout!.once('data', () => r()))));
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const queue = new Queue('tasks', { connection, prefix, defaultJobOptions: { attempts: 1, removeOnComplete: { age: 600 }, removeOnFail: { age: 3600 } } });
  const client = (await queue.client) as unknown as import('ioredis').default;
  const [s, us] = await client.time();
  const events = new QueueEvents('tasks', { connection, prefix, lastEventId: `${Number(s) * 1000 + Math.floor(Number(us) / 1000) - 1}-0` });
  await events.waitUntilReady();
  try {
    const run = (count: number) =>
      new Promise<void>((resolve, reject) => {
        let next = 0;
        let done = 0;
        const results = new Map<string, number>();
        const add = () => {
          const x = next++;
          void queue.addBulk([{ name: 'square', data: { x }, opts: { jobId: `${prefix}-${count}-${x}` } }]).catch(reject);
        };
        const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
          if (!jobId.startsWith(`${prefix}-${count}-`) || results.has(jobId)) return;
          results.set(jobId, Number(returnvalue));
          if (++done === count) {
            events.off('completed', onCompleted);
            resolve();
          } else if (next < count) add();
        };
        events.on('completed', onCompleted);
        for (let i = 0; i < Math.min(WINDOW, count); i++) add();
      });
    await run(3);
    const t0 = performance.now();
    await run(COUNT);
    return COUNT / ((performance.now() - t0) / 1000);
  } finally {
    await events.close();
    await queue.close();
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
  }
}

export default async function bullmqBench(): Promise<void> {
  const redis = await startRedis();
  try {
    const runs = Number(process.env.FORKSCOPE_BENCH_RUNS ?? 2);
    console.log(`${COUNT.toLocaleString('en-US')} tasks (x*x), ${WINDOW} in flight, workers of concurrency ${CONCURRENCY}, Redis on loopback, best of ${runs}`);
    for (const workers of [1, 2, 4]) {
      // Alternated, best of `runs` each, so load on this shared machine falls on both alike.
      let peer = 0;
      let mine = 0;
      for (let run = 0; run < runs; run++) {
        peer = Math.max(peer, await raw(redis, workers, `raw${workers}r${run}`));
        mine = Math.max(mine, await ours(redis, workers, `ours${workers}r${run}`));
      }
      const ratio = mine / peer;
      const fmt = (n: number): string => `${Math.round(n).toLocaleString('en-US')}/s`;
      console.log(`${workers} worker(s): forkscope Pool.map ${fmt(mine)} vs BullMQ directly ${fmt(peer)} = ${ratio.toFixed(2)}x (goal >= 0.9x) ${ratio >= 0.9 ? 'ok' : 'BELOW GOAL'}`);
    }
  } finally {
    await redis.dispose();
  }
}

if (require.main === module) void bullmqBench();
