// The program model: a pure reducer from control-channel events to a snapshot of the program. It routes each
// event to the reducer of its kind (model/processes.ts, queues.ts, pipes.ts, syncs.ts, pools.ts, managers.ts,
// clusters.ts, over one model/state.ts); deadlocks are found by deadlocks.ts.
// No I/O, no clock of its own (time is the events' `ts`), no Node or vscode imports.
import type { Hello, ObjectCreated, ProcessKey, RuntimeEvent } from '../runtime/src/protocol';
import { findDeadlocks } from './deadlocks';
import { copyCluster, reduceCluster } from './model/clusters';
import { copyManager, reduceManagerCalls } from './model/managers';
import { copyPipe, PIPE_KINDS, pipeCreated, reducePipe } from './model/pipes';
import { copyPool, poolCreated, reducePoolActivity, reduceTask } from './model/pools';
import * as processes from './model/processes';
import { copyQueue, QUEUE_KINDS, queueCreated, reduceQueue } from './model/queues';
import { newModelState, touch, type ModelState } from './model/state';
import { copySync, reduceSync, SYNC_KINDS, syncCreated } from './model/syncs';
import type { Deadlock, ProcessNode, ProgramSnapshot } from './snapshot';

/** A hostile or runaway program cannot grow the model without bound. */
const MAX_OBJECTS = 50_000;

export interface ProgramModelOptions {
  singleProcess?: boolean;
}

/** Events in, snapshot out. Feed it with `hello`, `apply` and `disconnected`; read it with `snapshot` (the view diffs snapshots itself). */
export class ProgramModel {
  #m: ModelState = newModelState();
  #singleProcess: boolean;
  /** Connection → the inline process its events are now on behalf of (single-process mode). */
  #contexts = new Map<ProcessKey, ProcessKey>();
  #rejected = 0;
  #dropped = 0;
  #deadlocks: Deadlock[] = [];
  #cached: ProgramSnapshot | undefined;

  constructor(options: ProgramModelOptions = {}) {
    this.#singleProcess = options.singleProcess ?? false;
  }

  /** Grows with every change, deadlocks found included: a reader compares it to know whether to read again. */
  get version(): number {
    this.#detect();
    return this.#m.version;
  }

  /** The newest event time seen: the model's notion of now. */
  get now(): number {
    return this.#m.now;
  }

  /** A process or worker said hello. Returns its key. */
  hello(hello: Hello, ts = this.#m.now): ProcessKey {
    this.#tick(ts);
    return processes.reduceHello(this.#m, hello, ts);
  }

  /** Applies a batch of events from one process's connection. */
  applyAll(key: ProcessKey, events: readonly RuntimeEvent[]): void {
    for (const event of events) this.apply(key, event);
  }

  /** Applies one event from the process `key`. */
  apply(key: ProcessKey, event: RuntimeEvent): void {
    const m = this.#m;
    this.#tick(event.ts);
    if (event.t === 'context') {
      if (event.key === undefined) this.#contexts.delete(key);
      else this.#contexts.set(key, event.key);
      return;
    }
    // Single-process mode: what an inline process does, on its host's connection, is its own.
    const inline = this.#contexts.get(key);
    if (inline !== undefined && m.processes.has(inline)) key = inline;
    switch (event.t) {
      case 'object':
        return this.#object(key, event);
      case 'identity':
        return processes.reduceIdentity(m, key, event);
      case 'child.start':
        return processes.reduceChildStart(m, key, event);
      case 'child.exit':
        return this.processExited(event.key, event.exitCode, event.signal ?? null, event.ts);
      case 'state':
        return processes.reduceState(m, key, event.state, event.on?.id, event.on?.kind, event.site, event.ts);
      case 'queue':
        return reduceQueue(m, key, event);
      case 'pipe':
        return reducePipe(m, key, event);
      case 'sync':
        return reduceSync(m, key, event);
      case 'task':
        return reduceTask(m, event);
      case 'pool':
        return reducePoolActivity(m, event);
      case 'cluster':
        return reduceCluster(m, key, event);
      case 'dropped':
        this.#dropped += Math.max(0, event.count);
        touch(m);
        return;
      case 'manager':
        return reduceManagerCalls(m, key, event);
      case 'log':
      case 'job':
        return;
    }
  }

  /** A process ended (its parent saw it, or the launcher did). Whatever it held is marked as held by the dead. */
  processExited(key: ProcessKey, exitCode: number | null, signal: string | null, ts = this.#m.now): void {
    this.#tick(ts);
    processes.processExited(this.#m, key, exitCode, signal, ts);
  }

  /** A connection closed: the process is gone, though its exit code may still come from its parent. */
  disconnected(key: ProcessKey, ts = this.#m.now): void {
    this.#tick(ts);
    processes.disconnected(this.#m, key, ts);
  }

  /** CPU (percent) and memory (bytes) from a process listing; `ppid` adds a descendant that does not report (not Node). */
  sampled(sample: { pid: number; ppid?: number; name?: string; cpu?: number; memory?: number }): void {
    processes.sampled(this.#m, sample);
  }

  /**
   * One sampling round is over and `pids` were alive: a process that never said hello (the preload cannot
   * reach it: a replaced environment, not Node) runs while the sampler sees it, and has exited once it does not.
   */
  sampledRound(pids: readonly number[], ts = this.#m.now): void {
    this.#tick(ts);
    processes.sampledRound(this.#m, pids, ts);
  }

  /** A connection was refused (bad token, bad frame, too big, too slow). */
  connectionRejected(): void {
    this.#rejected++;
    touch(this.#m);
  }

  setSingleProcess(value: boolean): void {
    this.#singleProcess = value;
    touch(this.#m);
  }

  /** Pids of processes that have not exited, for the sampler. */
  livePids(): number[] {
    return processes.livePids(this.#m);
  }

  process(key: ProcessKey): ProcessNode | undefined {
    const node = this.#m.processes.get(key);
    return node && { ...node };
  }

  /** The whole picture, as fresh objects the model never touches again. */
  snapshot(): ProgramSnapshot {
    this.#detect();
    const m = this.#m;
    if (this.#cached?.version === m.version) return this.#cached;
    this.#cached = {
      version: m.version,
      processes: [...m.processes.values()].map(processes.copyProcess),
      queues: [...m.queues.values()].map(copyQueue),
      pipes: [...m.pipes.values()].map((p) => copyPipe(p, m.now)),
      syncs: [...m.syncs.values()].map(copySync),
      pools: [...m.pools.values()].map(copyPool),
      clusters: [...m.clusters.values()].map(copyCluster),
      managers: [...m.managers.values()].map(copyManager),
      deadlocks: this.#deadlocks.map(copyDeadlock),
      singleProcess: this.#singleProcess,
      rejectedConnections: this.#rejected,
      droppedEvents: this.#dropped,
    };
    return this.#cached;
  }

  /** An object was created: recorded (with its owner) and, for the kinds the model shows, listed. */
  #object(key: ProcessKey, event: ObjectCreated): void {
    const m = this.#m;
    if (m.objects.size >= MAX_OBJECTS && !m.objects.has(event.id)) return;
    m.objects.set(event.id, event);
    m.owners.set(event.id, key);
    const label = event.label ?? event.id;
    if (QUEUE_KINDS.has(event.kind)) queueCreated(m, event, label);
    else if (PIPE_KINDS.has(event.kind)) pipeCreated(m, event, label);
    else if (SYNC_KINDS.has(event.kind)) syncCreated(m, event, label);
    else if (event.kind === 'Pool') poolCreated(m, event.id, label);
  }

  /** Looks for deadlocks again when a wait, a hold or an exit changed since the last look. */
  #detect(): void {
    const m = this.#m;
    if (!m.graphDirty) return;
    m.graphDirty = false;
    const found = findDeadlocks({ processes: m.processes, syncs: m.syncs, queues: m.queues });
    if (JSON.stringify(found) !== JSON.stringify(this.#deadlocks)) {
      this.#deadlocks = found;
      touch(m);
    }
  }

  #tick(ts: number): void {
    if (typeof ts === 'number' && ts > this.#m.now) this.#m.now = ts;
  }
}

function copyDeadlock(d: Deadlock): Deadlock {
  return { ...d, cycle: d.cycle.map((c) => ({ ...c })) };
}
