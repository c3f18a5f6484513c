// The cluster backend's connection to Redis: loads bullmq/ioredis only when asked for (optional peers of the
// runtime), reads `redis://` URLs, names this host, and turns Redis's refusals into errors that say what to do.
// Used by both sides (caller and `forkscope worker`); never imports the extension.
import { hostname } from 'node:os';
import { AuthenticationError, ConnectionError, ValueError } from '../errors';
import type * as BullMQ from 'bullmq';
import type { RedisOptions } from 'ioredis';

/** How the bullmq context reaches Redis. */
export interface BullmqOptions {
  /** A `redis://[user:password@]host:port[/db]` (or `rediss://`) URL, or ioredis options. @default FORKSCOPE_BACKEND */
  connection?: string | RedisOptions;
  /** Prefix of every Redis key, so several programs share one Redis. @default "forkscope" */
  prefix?: string;
  /** Name of the BullMQ queue that carries tasks; workers serve one queue. @default "tasks" */
  queue?: string;
  /** Pending calls fail with a ConnectionError once Redis has been unreachable this long (ms). @default 60000 */
  unreachableTimeout?: number;
}

export interface ResolvedBackend {
  redis: RedisOptions;
  /** host:port, for messages. */
  address: string;
  prefix: string;
  queue: string;
  unreachableTimeout: number;
}

// Redis could not be reached, or stayed unreachable longer than the backend allows: errors.ts' ConnectionError.
export { ConnectionError };

let bullmq: typeof BullMQ | undefined;

/** The bullmq module, or an error saying how to install it. */
export function loadBullmq(): typeof BullMQ {
  if (bullmq) return bullmq;
  try {
    // A plain require, so the runtime bundle leaves it external and a program without the backend never loads it.
    bullmq = require('bullmq') as typeof BullMQ;
  } catch (error) {
    throw new ValueError(
      `the bullmq backend needs the npm packages bullmq and ioredis beside forkscope: run \`npm install bullmq ioredis\` (${(error as Error).message.split('\n')[0]})`,
    );
  }
  return bullmq;
}

/** Reads a `redis://` URL (FORKSCOPE_BACKEND's form) into ioredis options; throws a ValueError naming what is wrong. */
export function parseRedisUrl(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ValueError(`the bullmq backend's connection ${JSON.stringify(url)} is not a URL; write redis://[user:password@]host:port[/db]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ValueError(`the bullmq backend's connection ${JSON.stringify(url)} must start with redis:// or rediss://`);
  }
  const options: RedisOptions = { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 6379 };
  if (u.username) options.username = decodeURIComponent(u.username);
  if (u.password) options.password = decodeURIComponent(u.password);
  const db = u.pathname.replace(/^\//, '');
  if (db) {
    if (!/^\d+$/.test(db)) throw new ValueError(`the database in ${JSON.stringify(url)} must be a number, not ${JSON.stringify(db)}`);
    options.db = Number(db);
  }
  if (u.protocol === 'rediss:') options.tls = {};
  return options;
}

export function resolveBackend(options: BullmqOptions = {}): ResolvedBackend {
  const connection = options.connection ?? process.env.FORKSCOPE_BACKEND;
  if (connection === undefined || connection === '') {
    throw new ValueError(
      'the bullmq context needs a connection: getContext("bullmq", { connection: "redis://host:6379" }) or FORKSCOPE_BACKEND=redis://host:6379',
    );
  }
  const base = typeof connection === 'string' ? parseRedisUrl(connection) : { ...connection };
  const prefix = options.prefix ?? 'forkscope';
  if (!/^[\w.:-]+$/.test(prefix)) throw new ValueError(`the bullmq prefix ${JSON.stringify(prefix)} may hold only letters, digits and . _ : -`);
  const queue = options.queue ?? 'tasks';
  if (!/^[\w.-]+$/.test(queue)) throw new ValueError(`the bullmq queue name ${JSON.stringify(queue)} may hold only letters, digits and . _ -`);
  const unreachableTimeout = options.unreachableTimeout ?? 60_000;
  if (!(unreachableTimeout > 0)) throw new ValueError(`unreachableTimeout must be a positive number of ms, not ${unreachableTimeout}`);
  return {
    // BullMQ's workers and event readers block on Redis: they require maxRetriesPerRequest null (commands wait for a reconnect).
    redis: { ...base, maxRetriesPerRequest: null, enableOfflineQueue: true },
    address: `${base.host ?? '127.0.0.1'}:${base.port ?? 6379}`,
    prefix,
    queue,
    unreachableTimeout,
  };
}

/**
 * Connects once with a plain client and pings, so bad credentials or a Redis that is not there are one clear error
 * before BullMQ starts (its clients retry forever, and reject promises nobody can catch on bad credentials).
 */
export async function probe(config: ResolvedBackend): Promise<void> {
  const IORedis = (require('ioredis') as { default: typeof import('ioredis').default }).default;
  let last: unknown;
  const deadline = Date.now() + config.unreachableTimeout;
  const client = new IORedis({ ...config.redis, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  client.on('error', (error) => (last = error));
  try {
    for (;;) {
      try {
        await client.connect();
        await client.ping();
        return;
      } catch (error) {
        const refused = credentialsError(error, config.address) ?? credentialsError(last, config.address);
        if (refused) throw refused;
        if (Date.now() >= deadline) {
          throw new ConnectionError(
            `Redis at ${config.address} could not be reached in ${config.unreachableTimeout} ms (${(error as Error).message}); start it, or check the address in the redis:// URL`,
          );
        }
        client.disconnect();
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    client.disconnect();
  }
}

/** Redis's answer to bad credentials, as an AuthenticationError that says where to fix them; else undefined. */
export function credentialsError(error: unknown, address: string): AuthenticationError | undefined {
  if (error instanceof AuthenticationError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (!/WRONGPASS|NOAUTH|invalid password|invalid username|AUTH.*without any password/i.test(message)) return undefined;
  return new AuthenticationError(
    `Redis at ${address} refused the credentials (${message.split('\n')[0]}); check the user and password in the redis:// URL (or the connection options)`,
  );
}

/** The host a worker or caller reports: FORKSCOPE_HOST when set (tests stand processes in for hosts), else the machine's name. */
export function hostName(): string {
  return process.env.FORKSCOPE_HOST || hostname();
}
