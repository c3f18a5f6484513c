// The bench's peer worker: BullMQ used directly, the same job (x*x) and the same worker settings as
// `forkscope worker`. Usage: node bullmq-raw-worker.cjs <redis-url> <prefix> <queue> <concurrency>
const { Worker } = require('bullmq');

const [url, prefix, queue, concurrency] = process.argv.slice(2);
const u = new URL(url);
const connection = { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
const worker = new Worker(queue, async (job) => job.data.x * job.data.x, {
  connection,
  prefix,
  concurrency: Number(concurrency),
  lockDuration: 5000,
  stalledInterval: 5000,
  maxStalledCount: 1,
});
worker.waitUntilReady().then(() => console.log('raw worker ready'));
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
