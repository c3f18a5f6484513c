// The observability path, each figure beside a peer measured in the same run: the model's ingest rate
// (beside JSON.parse of the same frames), the hub end to end over its socket, the model's memory for
// 1,000 processes, telemetry's cost with no hub (beside an empty call), and a Queue/Pool workload
// with a hub attached (beside the same workload without). Needs `npm run build` first.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Hello, RuntimeEvent } from '../runtime/src/protocol';
import * as telemetry from '../runtime/src/telemetry';
import { Hub } from '../hub/hub';
import { frame } from '../hub/hubServer';
import { ProgramModel } from '../hub/programModel';

const run = promisify(execFile);
const PROCESSES = 1_000;
const EVENTS = 1_000_000;

function hello(pid: number): Hello {
  return {
    t: 'hello',
    v: 1,
    token: 't',
    pid,
    ppid: pid === 1000 ? 1 : 1000,
    threadId: 0,
    name: `Process-${pid}`,
    startMethod: 'spawn',
    role: pid === 1000 ? 'main' : 'process',
  };
}

/** A recorded-like stream: aggregated queue and pipe counters, lock ops, state changes, pool tasks. */
function stream(n: number): Array<[string, RuntimeEvent]> {
  const out: Array<[string, RuntimeEvent]> = [];
  for (let i = 0; i < n; i++) {
    const pid = 1000 + (i % PROCESSES);
    const key = String(pid);
    const ts = 1_000_000 + i / 1000;
    const r = i % 10;
    if (r < 5) out.push([key, { t: 'queue', ts, id: `Queue-${i % 50}`, puts: 7, gets: 6, depth: i % 100 }]);
    else if (r < 7)
      out.push([
        key,
        { t: 'pipe', ts, id: `Pipe-${i % 200}`, sent: 3, received: 0, bytesSent: 300, bytesReceived: 0, peer: String(1000 + ((i + 1) % PROCESSES)) },
      ]);
    else if (r < 8) out.push([key, { t: 'sync', ts, id: `Lock-${i % 20}`, op: i % 20 < 10 ? 'acquire' : 'release', holder: `${pid}/0` }]);
    else if (r < 9) out.push([key, { t: 'state', ts, state: i % 2 ? 'running' : 'idle' }]);
    else out.push([key, { t: 'task', ts, pool: 'Pool-1', task: i, op: 'queued' }]);
  }
  return out;
}

function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function rate(n: number, ms: number): string {
  return `${(n / (ms / 1000) / 1e6).toFixed(2)} M/s`;
}

function modelIngest(events: Array<[string, RuntimeEvent]>): number {
  const model = new ProgramModel();
  for (let p = 0; p < PROCESSES; p++) model.hello(hello(1000 + p), 0);
  const t = performance.now();
  for (const [key, e] of events) model.apply(key, e);
  model.snapshot();
  return performance.now() - t;
}

function parsePeer(events: Array<[string, RuntimeEvent]>): number {
  // What the hub pays anyway: decoding the same events from frames of 500.
  const frames: string[] = [];
  for (let i = 0; i < events.length; i += 500) frames.push(JSON.stringify({ t: 'events', events: events.slice(i, i + 500).map(([, e]) => e) }));
  const t = performance.now();
  let n = 0;
  for (const f of frames) n += (JSON.parse(f) as { events: unknown[] }).events.length;
  if (n !== events.length) throw new Error('lost events');
  return performance.now() - t;
}

async function hubEndToEnd(events: Array<[string, RuntimeEvent]>): Promise<{ ms: number; counted: number }> {
  const hub = new Hub({ preload: false, sampleIntervalMs: false });
  const { address, token } = await hub.start();
  const socket = createConnection(address);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(frame({ ...hello(process.pid), token, ppid: 1 }));
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  const only = events.filter(([, e]) => e.t === 'queue').map(([, e]) => e);
  const t = performance.now();
  for (let i = 0; i < only.length; i += 500)
    if (!socket.write(frame({ t: 'events', events: only.slice(i, i + 500) }))) await new Promise((r) => socket.once('drain', r));
  // Done when the model has counted every put.
  const expected = only.reduce((n, e) => n + (e as { puts: number }).puts, 0);
  const counted = () => hub.model.snapshot().queues.reduce((n, q) => n + q.puts, 0);
  while (counted() < expected) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - t;
  socket.destroy();
  await hub.close();
  return { ms, counted: only.length };
}

function memoryFor1000(gc: () => void): { bytes: number; snapshotBytes: number } {
  gc();
  const before = process.memoryUsage().heapUsed;
  const model = new ProgramModel();
  for (let p = 0; p < PROCESSES; p++) {
    const pid = 1000 + p;
    const key = String(pid);
    model.hello(hello(pid), p);
    model.apply(key, { t: 'object', ts: p, id: `Q-${p}`, kind: 'Queue', label: `queue ${p}`, site: { file: '/app/main.ts', line: p, column: 1 } });
    model.apply(key, { t: 'object', ts: p, id: `L-${p}`, kind: 'Lock', label: `lock ${p}` });
    for (let s = 0; s < 60; s++) model.apply(key, { t: 'queue', ts: p + s * 1000, id: `Q-${p}`, puts: 1, gets: 0, depth: s });
    for (let s = 0; s < 5; s++)
      model.apply(key, { t: 'pipe', ts: p + s, id: `P-${p}`, sent: 1, received: 0, bytesSent: 100, bytesReceived: 0, previews: [`{ job: ${s} }`] });
    model.apply(key, { t: 'sync', ts: p, id: `L-${p}`, op: 'acquire', holder: key });
  }
  const snapshot = model.snapshot();
  gc();
  const bytes = process.memoryUsage().heapUsed - before;
  return { bytes, snapshotBytes: JSON.stringify(snapshot).length + (model.version > 0 ? 0 : 1) };
}

function telemetryIdleCost(): { emitNs: number; noopNs: number } {
  if (telemetry.isReporting()) throw new Error('run the bench without FORKSCOPE_HUB');
  const n = 5_000_000;
  const event: RuntimeEvent = { t: 'queue', ts: 0, id: 'q', puts: 1, gets: 0, depth: 1 };
  const sink = { count: 0 };
  const noop = (e: RuntimeEvent): void => {
    if (e === undefined) sink.count++;
  };
  let best = { emitNs: Infinity, noopNs: Infinity };
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    for (let i = 0; i < n; i++) telemetry.emit(event);
    const emitNs = ((performance.now() - t) * 1e6) / n;
    t = performance.now();
    for (let i = 0; i < n; i++) noop(event);
    const noopNs = ((performance.now() - t) * 1e6) / n;
    best = { emitNs: Math.min(best.emitNs, emitNs), noopNs: Math.min(best.noopNs, noopNs) };
  }
  return best;
}

/** Runs the workload in a child; asynchronously, since the hub in this process must keep serving it. */
interface Timings {
  queueMs: number;
  poolMs: number;
  queueCpuMs: number;
  poolCpuMs: number;
  poolWorkersCpuMs: number;
  programCpuMs: number;
  /** The whole program, from spawn to exit (measured here). */
  programMs: number;
}

async function workload(env: NodeJS.ProcessEnv): Promise<Timings> {
  const t = performance.now();
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(__dirname, 'hubWorkload.ts'), String(QUEUE_ITEMS), String(POOL_TASKS)], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { ...(JSON.parse(stdout.trim().split('\n').pop()!) as Timings), programMs: performance.now() - t };
}

export default async function bench(): Promise<void> {
  const events = stream(EVENTS);
  modelIngest(events.slice(0, 100_000)); // warm the JIT
  const modelMs = Math.min(modelIngest(events), modelIngest(events));
  const parseMs = Math.min(parsePeer(events), parsePeer(events));
  console.log(
    `model ingest (one core, ${EVENTS / 1e6}M aggregated events, ${PROCESSES} processes): ${rate(EVENTS, modelMs)}  beside JSON.parse of the same frames: ${rate(EVENTS, parseMs)}  (model/parse time ${(modelMs / parseMs).toFixed(2)}x)  goal ≥ 1 M/s`,
  );

  const e2e = await hubEndToEnd(events);
  console.log(`hub end to end (socket, frames, safe parse, validation, model; one process): ${rate(e2e.counted, e2e.ms)} queue events, every count kept`);

  const mem = memoryFor1000(gcFunction());
  console.log(
    `model memory, ${PROCESSES} processes (each a queue with 60 depth samples, a pipe, a lock): ${(mem.bytes / 1024 / 1024).toFixed(1)} MB heap, ${(mem.bytes / PROCESSES / 1024).toFixed(1)} kB/process; snapshot JSON ${(mem.snapshotBytes / 1024 / 1024).toFixed(1)} MB`,
  );

  const idle = telemetryIdleCost();
  console.log(
    `telemetry with no hub: emit() ${idle.emitNs.toFixed(2)} ns/call beside an empty call ${idle.noopNs.toFixed(2)} ns (${(idle.emitNs / idle.noopNs).toFixed(2)}x)`,
  );

  await watchedWorkload(ROUNDS);
}

const ROUNDS = Number(process.env.FORKSCOPE_BENCH_RUNS ?? 8);
const QUEUE_ITEMS = 20_000;
const POOL_TASKS = 5_000;

/** Median and range of xs. */
function spread(xs: number[]): { median: number; min: number; max: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return { median: sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/**
 * The workload with a hub attached beside the same without, in `rounds` pairs: within a pair the two run back to
 * back (the one going first alternates), so each pair's ratio is taken under much the same load; the median of
 * the pairs' ratios, with their range, is the figure (a best-of of each side mixes runs from different moments).
 */
export async function watchedWorkload(rounds: number): Promise<void> {
  const hub = new Hub({ sampleIntervalMs: false });
  const session = await hub.start();
  const base = { ...process.env };
  delete base.FORKSCOPE_HUB;
  delete base.FORKSCOPE_TOKEN;
  const withHub = { ...base, ...session.env };
  const runs = { without: [] as Timings[], with: [] as Timings[] };
  try {
    await workload(base); // warm the disk cache and tsx's
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        runs.without.push(await workload(base));
        runs.with.push(await workload(withHub));
      } else {
        runs.with.push(await workload(withHub));
        runs.without.push(await workload(base));
      }
    }
  } finally {
    await hub.close();
  }
  const names: Record<keyof Timings, string> = {
    queueMs: `Queue ${QUEUE_ITEMS / 1000}k put+get, wall`,
    queueCpuMs: `Queue ${QUEUE_ITEMS / 1000}k put+get, CPU`,
    poolMs: `Pool.map ${POOL_TASKS / 1000}k tasks (chunksize 1, 2 workers), wall`,
    poolCpuMs: `Pool.map ${POOL_TASKS / 1000}k tasks, CPU of the caller`,
    poolWorkersCpuMs: `Pool.map ${POOL_TASKS / 1000}k tasks, CPU of the workers`,
    programMs: 'the whole program (tsx start-up included), wall',
    programCpuMs: 'the whole program, CPU of its main process',
  };
  for (const k of ['queueMs', 'queueCpuMs', 'poolMs', 'poolCpuMs', 'poolWorkersCpuMs', 'programMs', 'programCpuMs'] as const) {
    const ratios = spread(runs.with.map((w, i) => w[k] / runs.without[i]![k]));
    const a = spread(runs.without.map((x) => x[k]));
    const b = spread(runs.with.map((x) => x[k]));
    console.log(
      `${names[k]}: with a hub ${b.median.toFixed(0)} ms beside without ${a.median.toFixed(0)} ms (medians); ` +
        `per pair with/without median ${ratios.median.toFixed(2)}x (${ratios.min.toFixed(2)}-${ratios.max.toFixed(2)}), ${rounds} alternating pairs; goal <= 1.10x`,
    );
    console.log(`    without: ${runs.without.map((x) => x[k].toFixed(0)).join(', ')}; with: ${runs.with.map((x) => x[k].toFixed(0)).join(', ')}`);
  }
  const s = hub.model.snapshot();
  console.log(`  (the hub saw ${s.processes.length} processes, ${s.queues.reduce((n, q) => n + q.puts, 0)} queue puts, ${s.droppedEvents} dropped)`);
}
