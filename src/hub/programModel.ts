// The program model: a pure reducer from control-channel events to a snapshot of the program
// (process tree, queues, pipes, locks, pools, deadlocks); deadlocks are found by deadlocks.ts.
// No I/O, no clock of its own (time is the events' `ts`), no Node or vscode imports.
import type { Hello, ObjectCreated, ObjectKind, ProcessKey, RuntimeEvent, SourceLocation } from '../../runtime/src/protocol';
import { findDeadlocks } from './deadlocks';
import type { ClusterNode, Deadlock, ManagerNode, PipeNode, PoolNode, ProcessNode, ProgramSnapshot, QueueNode, SyncNode, Waiter } from './snapshot';

/** Depth samples older than this (behind the newest event) are dropped. */
const HISTORY_MS = 60_000;
const MAX_HISTORY = 600;
/** Depth and rate samples closer together than this are merged. */
const SAMPLE_MS = 100;
/** Pipe rates are averaged over this window. */
const RATE_WINDOW_MS = 5_000;
const MAX_RECENT_PREVIEWS = 5;
/** A hostile or runaway program cannot grow the model without bound. */
const MAX_OBJECTS = 50_000;
const MAX_PROCESSES = 20_000;
const MAX_MANAGERS = 1_000;
/** Per manager: distinct typeid.method rows and callers kept, and detailed calls shown. */
const MAX_MANAGER_ROWS = 256;
const MAX_RECENT_CALLS = 8;

const QUEUE_KINDS = new Set<ObjectKind>(['Queue', 'SimpleQueue', 'JoinableQueue']);
const PIPE_KINDS = new Set<ObjectKind>(['Pipe', 'Channel']);
const SYNC_KINDS = new Set<ObjectKind>(['Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Event', 'Condition', 'Barrier']);

interface PipeRecord extends PipeNode {
  /**
   * Per direction (`from>to`, `?` for an unknown end): what the sender counted and what the receiver
   * counted. Each message is counted once, whether one end reports it or both.
   */
  directions: Map<string, { sent: number; received: number; bytesSent: number; bytesReceived: number }>;
  /** [ts, messages, bytes] increments inside the rate window. */
  samples: Array<[number, number, number]>;
}

interface PoolRecord extends PoolNode {
  tasks: Map<number, { start: number; worker?: ProcessKey }>;
  totalMs: number;
  finished: number;
  /** Busy workers as the last `pool` event (the counted tasks) said. */
  countedBusy: ProcessKey[];
}

interface ManagerRecord extends ManagerNode {
  /** `typeid.method` → its row; the total time behind each mean. */
  byMethod: Map<string, ManagerNode['methods'][number] & { totalMs: number }>;
  byCaller: Map<ProcessKey, number>;
  totalMs: number;
}

export interface ProgramModelOptions {
  singleProcess?: boolean;
}

/** Events in, snapshot out. Feed it with `hello`, `apply` and `disconnected`; read it with `snapshot` (the view diffs snapshots itself). */
export class ProgramModel {
  #version = 0;
  #now = 0;
  #singleProcess: boolean;
  /** Connection → the inline process its events are now on behalf of (single-process mode). */
  #contexts = new Map<ProcessKey, ProcessKey>();
  #rejected = 0;
  #dropped = 0;
  #processes = new Map<ProcessKey, ProcessNode>();
  #objects = new Map<string, ObjectCreated>();
  /** Which process created (and so keeps the items of) each object: only its depth reports are exact. */
  #owners = new Map<string, ProcessKey>();
  #queues = new Map<string, QueueNode>();
  #pipes = new Map<string, PipeRecord>();
  #syncs = new Map<string, SyncNode>();
  #pools = new Map<string, PoolRecord>();
  #clusters = new Map<string, ClusterNode>();
  #managers = new Map<string, ManagerRecord>();
  #deadlocks: Deadlock[] = [];
  #graphDirty = false;
  #cached: ProgramSnapshot | undefined;
  /** Processes that said hello: a process that never does (the preload cannot reach it) is followed by the sampler. */
  #greeted = new Set<ProcessKey>();
  /** Silent processes the sampler has seen alive: gone from a later sample, they have exited. */
  #sampledAlive = new Set<ProcessKey>();

  constructor(options: ProgramModelOptions = {}) {
    this.#singleProcess = options.singleProcess ?? false;
  }

  /** Grows with every change, deadlocks found included: a reader compares it to know whether to read again. */
  get version(): number {
    this.#detect();
    return this.#version;
  }

  /** The newest event time seen: the model's notion of now. */
  get now(): number {
    return this.#now;
  }

  /** A process or worker said hello. Returns its key. */
  hello(hello: Hello, ts = this.#now): ProcessKey {
    const key = hello.threadId === 0 ? String(hello.pid) : `${hello.pid}/${hello.threadId}`;
    this.#tick(ts);
    let node = this.#processes.get(key);
    const parent = hello.parent ?? this.#guessParent(hello.pid, hello.ppid, hello.threadId);
    if (!node) {
      if (this.#processes.size >= MAX_PROCESSES) return key;
      node = { key, pid: hello.pid, threadId: hello.threadId, name: hello.name, role: hello.role, startMethod: hello.startMethod, state: 'running', startedAt: ts };
      if (parent !== undefined) node.parent = parent;
      this.#processes.set(key, node);
    } else {
      // A parent's child.start may have come first: it knows the runtime's name; the preload only guesses.
      if (node.state === 'starting' || node.state === 'exited') node.state = node.state === 'exited' ? 'exited' : 'running';
      if (hello.role !== 'external' || node.role === undefined) {
        node.name = hello.name;
        node.role = hello.role;
        node.startMethod = hello.startMethod;
      }
      if (node.parent === undefined && parent !== undefined) node.parent = parent;
    }
    if (hello.role === 'external') node.external = true;
    else if (hello.role === 'manager') {
      delete node.external;
      if (node.state !== 'exited') node.state = 'serving';
    }
    if (hello.inspectorUrl !== undefined) node.inspectorUrl = hello.inspectorUrl;
    if (!hello.announceOnly) this.#greeted.add(key);
    this.#touch();
    return key;
  }

  /** Applies a batch of events from one process's connection. */
  applyAll(key: ProcessKey, events: readonly RuntimeEvent[]): void {
    for (const event of events) this.apply(key, event);
  }

  /** Applies one event from the process `key`. */
  apply(key: ProcessKey, event: RuntimeEvent): void {
    this.#tick(event.ts);
    if (event.t === 'context') {
      if (event.key === undefined) this.#contexts.delete(key);
      else this.#contexts.set(key, event.key);
      return;
    }
    // Single-process mode: what an inline process does, on its host's connection, is its own.
    const inline = this.#contexts.get(key);
    if (inline !== undefined && this.#processes.has(inline)) key = inline;
    switch (event.t) {
      case 'object':
        return this.#object(key, event);
      case 'identity': {
        const node = this.#processes.get(key);
        if (!node) return;
        if (event.name !== undefined) node.name = event.name;
        if (event.role !== undefined) {
          node.role = event.role;
          if (event.role !== 'external') delete node.external;
        }
        if (event.startMethod !== undefined) node.startMethod = event.startMethod;
        if (event.parent !== undefined) node.parent = event.parent;
        if (event.inspectorUrl !== undefined) node.inspectorUrl = event.inspectorUrl;
        return this.#touch();
      }
      case 'child.start': {
        let node = this.#processes.get(event.key);
        if (!node) {
          if (this.#processes.size >= MAX_PROCESSES) return;
          // An external thread may never say hello itself (its parent reports it): it runs once started.
          // An inline process (single-process mode) runs in its host and never says hello: it runs once started.
          const state = (event.role === 'external' && event.threadId !== 0) || event.startMethod === 'inline' ? 'running' : 'starting';
          node = { key: event.key, pid: event.pid, threadId: event.threadId, name: event.name, role: event.role, startMethod: event.startMethod, state, startedAt: event.ts, parent: key };
          if (event.role === 'external') node.external = true;
          this.#processes.set(event.key, node);
        } else if (event.role !== 'external' || node.external) {
          // The runtime's account of a child beats the preload's (which sees every spawn as external).
          node.name = event.name;
          node.role = event.role;
          node.startMethod = event.startMethod;
          if (node.parent === undefined) node.parent = key;
          if (event.role !== 'external') delete node.external;
        }
        if (event.pool !== undefined) this.#poolWorker(event.pool, event.key);
        return this.#touch();
      }
      case 'child.exit':
        return this.processExited(event.key, event.exitCode, event.signal ?? null, event.ts);
      case 'state':
        return this.#state(key, event.state, event.on?.id, event.on?.kind, event.site, event.ts);
      case 'queue':
        return this.#queue(key, event);
      case 'pipe':
        return this.#pipe(key, event);
      case 'sync':
        return this.#sync(key, event);
      case 'task':
        return this.#task(event);
      case 'pool':
        return this.#poolActivity(event);
      case 'cluster':
        return this.#cluster(key, event);
      case 'dropped':
        this.#dropped += Math.max(0, event.count);
        this.#version++;
        return;
      case 'manager':
        return this.#managerCalls(key, event);
      case 'log':
      case 'job':
        return;
    }
  }

  /** A process ended (its parent saw it, or the launcher did). Whatever it held is marked as held by the dead. */
  processExited(key: ProcessKey, exitCode: number | null, signal: string | null, ts = this.#now): void {
    this.#tick(ts);
    const node = this.#processes.get(key);
    if (!node) return;
    node.exitCode = exitCode;
    node.signal = signal;
    if (node.state !== 'exited') this.#markExited(node, ts);
    this.#touch();
  }

  /** A connection closed: the process is gone, though its exit code may still come from its parent. */
  disconnected(key: ProcessKey, ts = this.#now): void {
    this.#tick(ts);
    const node = this.#processes.get(key);
    if (!node || node.state === 'exited') return;
    this.#markExited(node, ts);
    this.#touch();
  }

  /** CPU (percent) and memory (bytes) from a process listing; `ppid` adds a descendant that does not report (not Node). */
  sampled(sample: { pid: number; ppid?: number; name?: string; cpu?: number; memory?: number }): void {
    const key = String(sample.pid);
    let node = this.#processes.get(key);
    if (!node) {
      if (sample.ppid === undefined || this.#processes.size >= MAX_PROCESSES) return;
      const parent = this.#processes.get(String(sample.ppid));
      if (!parent) return;
      node = { key, pid: sample.pid, threadId: 0, parent: parent.key, name: sample.name ?? `pid ${sample.pid}`, role: 'external', startMethod: 'spawn', state: 'running', startedAt: this.#now, external: true };
      this.#processes.set(key, node);
    } else if (node.cpu === sample.cpu && node.memory === sample.memory) return;
    if (sample.cpu !== undefined) node.cpu = sample.cpu;
    if (sample.memory !== undefined) node.memory = sample.memory;
    this.#touch();
  }

  /**
   * One sampling round is over and `pids` were alive: a process that never said hello (the preload cannot
   * reach it: a replaced environment, not Node) runs while the sampler sees it, and has exited once it does not.
   */
  sampledRound(pids: readonly number[], ts = this.#now): void {
    this.#tick(ts);
    const alive = new Set(pids);
    for (const node of this.#processes.values()) {
      if (node.threadId !== 0 || node.state === 'exited' || this.#greeted.has(node.key)) continue;
      if (alive.has(node.pid)) {
        this.#sampledAlive.add(node.key);
        if (node.state === 'starting' && node.external) {
          node.state = 'running';
          this.#touch();
        }
      } else if (this.#sampledAlive.has(node.key)) {
        this.#markExited(node, ts);
        this.#touch();
      }
    }
  }

  /** A connection was refused (bad token, bad frame, too big, too slow). */
  connectionRejected(): void {
    this.#rejected++;
    this.#version++;
  }

  setSingleProcess(value: boolean): void {
    this.#singleProcess = value;
    this.#version++;
  }

  /** Pids of processes that have not exited, for the sampler. */
  livePids(): number[] {
    const pids: number[] = [];
    for (const node of this.#processes.values()) if (node.threadId === 0 && node.state !== 'exited') pids.push(node.pid);
    return pids;
  }

  process(key: ProcessKey): ProcessNode | undefined {
    const node = this.#processes.get(key);
    return node && { ...node };
  }

  /** The whole picture, as fresh objects the model never touches again. */
  snapshot(): ProgramSnapshot {
    this.#detect();
    if (this.#cached?.version === this.#version) return this.#cached;
    this.#cached = {
      version: this.#version,
      processes: [...this.#processes.values()].map(copyProcess),
      queues: [...this.#queues.values()].map(copyQueue),
      pipes: [...this.#pipes.values()].map((p) => this.#copyPipe(p)),
      syncs: [...this.#syncs.values()].map(copySync),
      pools: [...this.#pools.values()].map(copyPool),
      clusters: [...this.#clusters.values()].map((c) => ({ ...c, workers: c.workers.map((w) => ({ ...w })) })),
      managers: [...this.#managers.values()].map(copyManager),
      deadlocks: this.#deadlocks.map(copyDeadlock),
      singleProcess: this.#singleProcess,
      rejectedConnections: this.#rejected,
      droppedEvents: this.#dropped,
    };
    return this.#cached;
  }

  // ---- reducers ---------------------------------------------------------------------------------

  #object(key: ProcessKey, event: ObjectCreated): void {
    if (this.#objects.size >= MAX_OBJECTS && !this.#objects.has(event.id)) return;
    this.#objects.set(event.id, event);
    this.#owners.set(event.id, key);
    const label = event.label ?? event.id;
    if (QUEUE_KINDS.has(event.kind)) {
      const q = this.#queueNode(event.id);
      q.kind = event.kind;
      q.label = label;
      if (event.site) q.site = event.site;
      q.maxsize = event.capacity ?? 0;
      this.#touch();
    } else if (PIPE_KINDS.has(event.kind)) {
      const p = this.#pipeNode(event.id);
      p.kind = event.kind;
      p.label = label;
      this.#touch();
    } else if (SYNC_KINDS.has(event.kind)) {
      const s = this.#syncNode(event.id);
      s.kind = event.kind;
      s.label = label;
      if (event.site) s.site = event.site;
      this.#touch();
    } else if (event.kind === 'Pool') {
      const p = this.#poolNode(event.id);
      p.label = label;
      this.#touch();
    }
  }

  #state(key: ProcessKey, state: ProcessNode['state'], on: string | undefined, kind: ObjectKind | undefined, site: SourceLocation | undefined, ts: number): void {
    const node = this.#processes.get(key);
    if (!node || node.state === 'exited') return;
    if (node.waitingOn !== undefined && node.waitingOn !== on) this.#leaveWait(node, node.waitingOn);
    node.state = state;
    if (state === 'waiting' && on !== undefined) {
      if (node.waitingOn !== on) node.waitingSince = ts;
      node.waitingOn = on;
      if (site) node.waitSite = site;
      else delete node.waitSite;
      const objectKind = kind ?? this.#objects.get(on)?.kind;
      if (objectKind && SYNC_KINDS.has(objectKind)) {
        const s = this.#syncNode(on, objectKind);
        if (!s.waiters.some((w) => w.key === key)) s.waiters.push(site ? { key, since: ts, site } : { key, since: ts });
        this.#touch();
      }
    } else {
      delete node.waitingOn;
      delete node.waitingSince;
      delete node.waitSite;
    }
    this.#graphDirty = true;
    this.#touch();
  }

  #leaveWait(node: ProcessNode, id: string): void {
    const s = this.#syncs.get(id);
    if (s && removeWaiter(s, node.key)) this.#touch();
  }

  #queue(key: ProcessKey, event: Extract<RuntimeEvent, { t: 'queue' }>): void {
    const q = this.#queueNode(event.id);
    q.puts += event.puts;
    q.gets += event.gets;
    if (event.puts > 0 && !q.producers.includes(key)) q.producers.push(key);
    if (event.gets > 0 && !q.consumers.includes(key)) q.consumers.push(key);
    // Producers and consumers report their own puts and gets; the depth they saw is a guess that may
    // arrive after the owner's exact one, so only the owner's counts (when the owner is known).
    const owner = this.#owners.get(event.id);
    if (owner !== undefined && owner !== key) {
      this.#graphDirty = true;
      return this.#touch();
    }
    q.depth = event.depth;
    const h = q.history;
    const last = h[h.length - 1];
    // One sample per SAMPLE_MS: a flood of reports keeps the history's size (and cost) fixed.
    if (last && event.ts - last[0] < SAMPLE_MS) last[1] = event.depth;
    else {
      h.push([event.ts, event.depth]);
      if (h.length > MAX_HISTORY || h[0]![0] < this.#now - HISTORY_MS) {
        let cut = 0;
        while (cut < h.length - 1 && (h.length - cut > MAX_HISTORY || h[cut]![0] < this.#now - HISTORY_MS)) cut++;
        h.splice(0, cut);
      }
    }
    this.#graphDirty = true;
    this.#touch();
  }

  #pipe(key: ProcessKey, event: Extract<RuntimeEvent, { t: 'pipe' }>): void {
    const p = this.#pipeNode(event.id);
    const messagesBefore = p.messages;
    const bytesBefore = p.bytes;
    const peer = event.peer ?? '?';
    if (event.sent || event.bytesSent) {
      const d = direction(p, key, peer);
      p.messages += Math.max(0, d.sent + event.sent - d.received) - Math.max(0, d.sent - d.received);
      p.bytes += Math.max(0, d.bytesSent + event.bytesSent - d.bytesReceived) - Math.max(0, d.bytesSent - d.bytesReceived);
      d.sent += event.sent;
      d.bytesSent += event.bytesSent;
    }
    if (event.received || event.bytesReceived) {
      const d = direction(p, peer, key);
      p.messages += Math.max(0, d.received + event.received - d.sent) - Math.max(0, d.received - d.sent);
      p.bytes += Math.max(0, d.bytesReceived + event.bytesReceived - d.bytesSent) - Math.max(0, d.bytesReceived - d.bytesSent);
      d.received += event.received;
      d.bytesReceived += event.bytesReceived;
    }
    if (!p.ends.includes(key)) p.ends.push(key);
    if (event.peer !== undefined && !p.ends.includes(event.peer)) p.ends.push(event.peer);
    if (event.previews) {
      for (const text of event.previews) if (typeof text === 'string') p.recent.push(text);
      if (p.recent.length > MAX_RECENT_PREVIEWS) p.recent.splice(0, p.recent.length - MAX_RECENT_PREVIEWS);
    }
    if (p.messages !== messagesBefore || p.bytes !== bytesBefore) {
      const last = p.samples[p.samples.length - 1];
      if (last && event.ts - last[0] < SAMPLE_MS) {
        last[1] += p.messages - messagesBefore;
        last[2] += p.bytes - bytesBefore;
      } else {
        p.samples.push([event.ts, p.messages - messagesBefore, p.bytes - bytesBefore]);
        const horizon = this.#now - RATE_WINDOW_MS;
        let cut = 0;
        while (cut < p.samples.length - 1 && p.samples[cut]![0] < horizon) cut++;
        if (cut > 0) p.samples.splice(0, cut);
      }
    }
    this.#touch();
  }

  #sync(key: ProcessKey, event: Extract<RuntimeEvent, { t: 'sync' }>): void {
    const s = this.#syncNode(event.id);
    switch (event.op) {
      case 'wait':
        // Reported by whoever keeps the lock's state (its owner process), not necessarily the waiter:
        // waiters come from the waiting process's own `state: waiting` event, with its call site.
        if (event.holder != null) s.holder = normalizeKey(event.holder);
        break;
      case 'acquire': {
        const holder = event.holder === undefined ? key : event.holder === null ? null : normalizeKey(event.holder);
        s.holder = holder;
        s.heldSince = event.ts;
        // The holder's own wait site is where it acquired, when the op was reported by the lock's owner.
        const site = event.site ?? (holder !== null ? this.#processes.get(holder)?.waitSite : undefined);
        if (site && (holder === key || event.site === undefined)) s.acquiredAt = site;
        else delete s.acquiredAt;
        s.ownerDied = false;
        if (holder !== null) removeWaiter(s, holder);
        this.#stopWaiting(holder ?? key, event.id);
        break;
      }
      case 'release':
        s.holder = event.holder == null ? null : normalizeKey(event.holder);
        delete s.heldSince;
        delete s.acquiredAt;
        break;
      case 'timeout':
        removeWaiter(s, key);
        this.#stopWaiting(key, event.id);
        break;
      // A broken Barrier (isSet shows "broken") lets its waiters go, as a set Event does.
      case 'set':
      case 'broken':
        s.isSet = true;
        for (const w of s.waiters.splice(0)) this.#stopWaiting(w.key, event.id);
        break;
      case 'clear':
        s.isSet = false;
        break;
      case 'notify':
        break;
      case 'ownerDied':
        s.ownerDied = true;
        s.holder = event.holder == null ? null : normalizeKey(event.holder);
        if (s.holder !== null) removeWaiter(s, s.holder);
        break;
    }
    this.#graphDirty = true;
    this.#touch();
  }

  #stopWaiting(key: ProcessKey, id: string): void {
    const node = this.#processes.get(key);
    if (!node || node.waitingOn !== id) return;
    delete node.waitingOn;
    delete node.waitingSince;
    delete node.waitSite;
    if (node.state === 'waiting') node.state = 'running';
    this.#touch();
  }

  #task(event: Extract<RuntimeEvent, { t: 'task' }>): void {
    const p = this.#poolNode(event.pool);
    switch (event.op) {
      case 'queued':
        p.queued++;
        break;
      case 'started': {
        // A task started again after its worker died never stopped counting as running (the dead leave `busy` on exit).
        if (!p.tasks.has(event.task)) {
          if (p.queued > 0) p.queued--;
          p.running++;
        }
        p.tasks.set(event.task, event.worker === undefined ? { start: event.ts } : { start: event.ts, worker: event.worker });
        if (event.worker !== undefined) {
          if (!p.workers.includes(event.worker)) p.workers.push(event.worker);
          if (!p.busy.includes(event.worker)) p.busy.push(event.worker);
        }
        break;
      }
      case 'done':
      case 'failed': {
        const task = p.tasks.get(event.task);
        if (task) {
          p.tasks.delete(event.task);
          if (p.running > 0) p.running--;
          p.totalMs += Math.max(0, event.ts - task.start);
          p.finished++;
          p.meanTaskMs = p.totalMs / p.finished;
          const worker = task.worker ?? event.worker;
          if (worker !== undefined && !p.countedBusy.includes(worker) && ![...p.tasks.values()].some((t) => t.worker === worker)) p.busy = p.busy.filter((w) => w !== worker);
        } else if (p.queued > 0) p.queued--;
        if (event.op === 'done') p.done++;
        else p.failed++;
        break;
      }
      case 'cancelled':
        if (p.queued > 0) p.queued--;
        break;
    }
    this.#touch();
  }

  /** Counts of the tasks a pool did not report one by one: changes, added to what the `task` events say. */
  #poolActivity(event: Extract<RuntimeEvent, { t: 'pool' }>): void {
    const p = this.#poolNode(event.pool);
    p.queued = Math.max(0, p.queued + event.queued + event.returned - event.started - event.dropped);
    p.running = Math.max(0, p.running + event.started - event.returned - event.finished);
    p.done += event.done;
    p.failed += event.failed;
    p.totalMs += event.runMs;
    p.finished += event.finished;
    if (p.finished > 0) p.meanTaskMs = p.totalMs / p.finished;
    p.countedBusy = event.busy.filter((w) => this.#processes.get(w)?.state !== 'exited');
    for (const w of p.countedBusy) if (!p.workers.includes(w)) p.workers.push(w);
    const detailed = new Set<ProcessKey>();
    for (const t of p.tasks.values()) if (t.worker !== undefined) detailed.add(t.worker);
    p.busy = [...new Set([...p.countedBusy, ...detailed])];
    this.#touch();
  }

  /** A cluster's reading replaces the last one: every number in it is absolute. Workers grouped by host. */
  #cluster(key: ProcessKey, event: Extract<RuntimeEvent, { t: 'cluster' }>): void {
    if (!this.#clusters.has(event.id) && this.#clusters.size >= 64) return;
    const { t: _t, ts, ...reading } = event;
    const workers = reading.workers.map((w) => ({ ...w })).sort((a, b) => a.host.localeCompare(b.host) || a.name.localeCompare(b.name));
    this.#clusters.set(event.id, { ...reading, workers, reportedBy: key, updatedAt: ts });
    this.#touch();
  }

  /** Calls to a manager: counted from their callers' reports; the server's reports say who serves it. */
  #managerCalls(key: ProcessKey, event: Extract<RuntimeEvent, { t: 'manager' }>): void {
    let m = this.#managers.get(event.manager);
    if (!m) {
      if (this.#managers.size >= MAX_MANAGERS) return;
      m = { id: event.manager, label: `Manager ${event.manager}`, calls: 0, errors: 0, served: 0, meanMs: 0, methods: [], callers: [], recent: [], byMethod: new Map(), byCaller: new Map(), totalMs: 0 };
      this.#managers.set(event.manager, m);
    }
    if (event.side === 'serve') {
      m.server = key;
      m.served += event.calls.length;
      for (const c of Object.values(event.counted ?? {})) m.served += c.calls;
      return this.#touch();
    }
    const add = (typeid: string, method: string, calls: number, errors: number, ms: number): void => {
      m.calls += calls;
      m.errors += errors;
      m.totalMs += ms;
      const name = `${typeid}.${method}`;
      let row = m.byMethod.get(name);
      if (!row && m.byMethod.size < MAX_MANAGER_ROWS) m.byMethod.set(name, (row = { typeid, method, calls: 0, errors: 0, meanMs: 0, totalMs: 0 }));
      if (row) {
        row.calls += calls;
        row.errors += errors;
        row.totalMs += ms;
      }
      if (m.byCaller.has(key) || m.byCaller.size < MAX_MANAGER_ROWS) m.byCaller.set(key, (m.byCaller.get(key) ?? 0) + calls);
    };
    for (const c of event.calls) {
      add(c.typeid, c.method, 1, c.outcome === 'error' ? 1 : 0, c.ms);
      m.recent.push({ caller: key, typeid: c.typeid, method: c.method, ts: c.start, ms: c.ms, outcome: c.outcome, ...(c.error !== undefined ? { error: c.error } : {}) });
    }
    if (m.recent.length > MAX_RECENT_CALLS) m.recent.splice(0, m.recent.length - MAX_RECENT_CALLS);
    for (const [name, c] of Object.entries(event.counted ?? {})) {
      const dot = name.indexOf('.');
      add(dot === -1 ? name : name.slice(0, dot), dot === -1 ? '?' : name.slice(dot + 1), c.calls, c.errors, c.ms);
    }
    m.meanMs = m.calls > 0 ? m.totalMs / m.calls : 0;
    m.methods = [...m.byMethod.values()].map(({ totalMs, ...row }) => ({ ...row, meanMs: row.calls > 0 ? totalMs / row.calls : 0 })).sort((a, b) => b.calls - a.calls);
    m.callers = [...m.byCaller].map(([k, calls]) => ({ key: k, calls })).sort((a, b) => b.calls - a.calls);
    this.#touch();
  }

  #markExited(node: ProcessNode, ts: number): void {
    if (node.threadId === 0) {
      // A thread ends with its process, whether or not anyone reported its own end.
      for (const thread of this.#processes.values()) {
        if (thread.pid !== node.pid || thread.threadId === 0 || thread.state === 'exited') continue;
        this.#markExited(thread, ts);
        this.#touch();
      }
    }
    if (node.waitingOn !== undefined) this.#leaveWait(node, node.waitingOn);
    node.state = 'exited';
    node.exitedAt = ts;
    delete node.waitingOn;
    delete node.waitingSince;
    delete node.waitSite;
    // What the dead held stays shown, marked: its waiters would otherwise look merely slow.
    for (const s of this.#syncs.values()) {
      if (s.holder === node.key) {
        s.ownerDied = true;
        this.#touch();
      }
      if (removeWaiter(s, node.key)) this.#touch();
    }
    for (const p of this.#pools.values()) {
      if (p.busy.includes(node.key)) {
        p.busy = p.busy.filter((w) => w !== node.key);
        p.countedBusy = p.countedBusy.filter((w) => w !== node.key);
        this.#touch();
      }
    }
    this.#graphDirty = true;
  }

  // ---- the wait-for graph -------------------------------------------------------------------------

  #detect(): void {
    if (!this.#graphDirty) return;
    this.#graphDirty = false;
    const found = findDeadlocks({ processes: this.#processes, syncs: this.#syncs, queues: this.#queues });
    const before = JSON.stringify(this.#deadlocks);
    if (JSON.stringify(found) !== before) {
      this.#deadlocks = found;
      this.#version++;
    }
  }

  // ---- records ------------------------------------------------------------------------------------

  #tick(ts: number): void {
    if (typeof ts === 'number' && ts > this.#now) this.#now = ts;
  }

  #touch(): void {
    this.#version++;
  }

  #guessParent(pid: number, ppid: number, threadId: number): ProcessKey | undefined {
    if (threadId !== 0) return String(pid);
    const parent = this.#processes.get(String(ppid));
    return parent ? parent.key : undefined;
  }

  #label(id: string, kind: ObjectKind): { kind: ObjectKind; label: string; site?: SourceLocation } {
    const created = this.#objects.get(id);
    if (!created) return { kind, label: id };
    return created.site ? { kind: created.kind, label: created.label ?? id, site: created.site } : { kind: created.kind, label: created.label ?? id };
  }

  #queueNode(id: string): QueueNode {
    let q = this.#queues.get(id);
    if (!q) {
      const { kind, label, site } = this.#label(id, 'Queue');
      q = { id, kind, label, maxsize: this.#objects.get(id)?.capacity ?? 0, depth: 0, puts: 0, gets: 0, history: [], producers: [], consumers: [] };
      if (site) q.site = site;
      this.#queues.set(id, q);
    }
    return q;
  }

  #pipeNode(id: string): PipeRecord {
    let p = this.#pipes.get(id);
    if (!p) {
      const { kind, label } = this.#label(id, 'Pipe');
      p = { id, kind, label, ends: [], messages: 0, bytes: 0, messagesPerSecond: 0, bytesPerSecond: 0, recent: [], directions: new Map(), samples: [] };
      this.#pipes.set(id, p);
    }
    return p;
  }

  #syncNode(id: string, kindHint: ObjectKind = 'Lock'): SyncNode {
    let s = this.#syncs.get(id);
    if (!s) {
      const { kind, label, site } = this.#label(id, kindHint);
      s = { id, kind, label, holder: null, waiters: [] };
      if (site) s.site = site;
      this.#syncs.set(id, s);
    }
    return s;
  }

  /** A pool's worker is listed from its start, idle until a task runs on it. */
  #poolWorker(pool: string, worker: ProcessKey): void {
    const p = this.#poolNode(pool);
    if (p.workers.includes(worker)) return;
    p.workers.push(worker);
    this.#touch();
  }

  #poolNode(id: string): PoolRecord {
    let p = this.#pools.get(id);
    if (!p) {
      p = { id, label: this.#objects.get(id)?.label ?? id, workers: [], busy: [], queued: 0, running: 0, done: 0, failed: 0, meanTaskMs: 0, tasks: new Map(), totalMs: 0, finished: 0, countedBusy: [] };
      this.#pools.set(id, p);
    }
    return p;
  }

  #copyPipe(p: PipeRecord): PipeNode {
    let messages = 0;
    let bytes = 0;
    const horizon = this.#now - RATE_WINDOW_MS;
    for (const [ts, m, b] of p.samples) {
      if (ts < horizon) continue;
      messages += m;
      bytes += b;
    }
    const seconds = RATE_WINDOW_MS / 1000;
    return { id: p.id, kind: p.kind, label: p.label, ends: [...p.ends], messages: p.messages, bytes: p.bytes, messagesPerSecond: messages / seconds, bytesPerSecond: bytes / seconds, recent: [...p.recent] };
  }
}

type Direction = { sent: number; received: number; bytesSent: number; bytesReceived: number };

/**
 * The record for messages from `from` to `to`; `?` is an end that was not named. A two-ended pipe whose
 * reports name no peer still pairs: A's sends to `?` are B's receipts from `?`.
 */
function direction(p: PipeRecord, from: string, to: string): Direction {
  let d = p.directions.get(`${from}>${to}`);
  if (d) return d;
  for (const [name, candidate] of p.directions) {
    const [f, t] = name.split('>') as [string, string];
    if (to === '?' && (f === from || (f === '?' && t !== from))) return candidate;
    if (from === '?' && (t === to || (t === '?' && f !== to))) return candidate;
    if (f === from && t === '?') return candidate;
    if (t === to && f === '?') return candidate;
  }
  d = { sent: 0, received: 0, bytesSent: 0, bytesReceived: 0 };
  p.directions.set(`${from}>${to}`, d);
  return d;
}

/** `pid/0` (a main thread, as the runtime's context ids spell it) is the process key `pid`. */
function normalizeKey(key: string): string {
  return key.endsWith('/0') ? key.slice(0, -2) : key;
}

function removeWaiter(s: SyncNode, key: ProcessKey): boolean {
  const i = s.waiters.findIndex((w) => w.key === key);
  if (i === -1) return false;
  s.waiters.splice(i, 1);
  return true;
}


function copyProcess(p: ProcessNode): ProcessNode {
  return p.waitSite ? { ...p, waitSite: { ...p.waitSite } } : { ...p };
}

function copyQueue(q: QueueNode): QueueNode {
  return { ...q, history: q.history.map(([ts, depth]) => [ts, depth] as [number, number]), producers: [...q.producers], consumers: [...q.consumers] };
}

function copySync(s: SyncNode): SyncNode {
  return { ...s, waiters: s.waiters.map((w: Waiter) => ({ ...w })) };
}

function copyPool(p: PoolRecord): PoolNode {
  return { id: p.id, label: p.label, workers: [...p.workers], busy: [...p.busy], queued: p.queued, running: p.running, done: p.done, failed: p.failed, meanTaskMs: p.meanTaskMs };
}

function copyManager(m: ManagerRecord): ManagerNode {
  const node: ManagerNode = { id: m.id, label: m.label, calls: m.calls, errors: m.errors, served: m.served, meanMs: m.meanMs, methods: m.methods.map((r) => ({ ...r })), callers: m.callers.map((c) => ({ ...c })), recent: m.recent.map((c) => ({ ...c })) };
  if (m.server !== undefined) node.server = m.server;
  return node;
}

function copyDeadlock(d: Deadlock): Deadlock {
  return { ...d, cycle: d.cycle.map((c) => ({ ...c })) };
}
