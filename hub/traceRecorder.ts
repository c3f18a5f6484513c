// Records the control channel's events as a Chrome trace-event file (opens in Perfetto and
// chrome://tracing): processes and threads named, task spans, queue depth counters, messages as flow
// arrows, waits as spans. Pure apart from `writeTo`; never imports vscode.
import { writeFileSync } from 'node:fs';
import type { Hello, ObjectKind, ProcessKey, RuntimeEvent } from '../runtime/src/protocol';

/** One Chrome trace event (the fields we use). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'B' | 'E' | 'i' | 'C' | 'M' | 's' | 'f';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  id?: number;
  bp?: 'e';
  s?: 'p' | 't' | 'g';
  args?: Record<string, unknown>;
}

/** A long run keeps its first events rather than growing without bound. */
const MAX_EVENTS = 2_000_000;
/** Arrows drawn per channel; beyond, messages are still counted, not drawn. */
const MAX_FLOWS_PER_CHANNEL = 10_000;
/** Trace rows of remote workers start here, above any local pid (Linux's pid_max is at most 2^22). */
const REMOTE_ROWS = 10_000_000;

interface PendingEnd {
  id: number;
  phase: 's' | 'f';
  /** Microseconds, as drawn. */
  ts: number;
  kind: ObjectKind;
  label: string;
  /** The process at the other end, when the report named it. */
  peer?: ProcessKey;
}

interface OpenWait {
  ts: number;
  id: string;
  site?: string;
}

export class TraceRecorder {
  #events: TraceEvent[] = [];
  /** Time zero: the recorder's creation, before any process of the program started. */
  #t0: number;
  #objects = new Map<string, { kind: ObjectKind; label: string }>();
  #named = new Set<string>();
  #waits = new Map<ProcessKey, OpenWait>();
  #tasks = new Map<string, { ts: number; worker?: ProcessKey; fn?: string }>();
  /** Message ends seen once so far: the other end joins them, or (when one side reports both) is drawn from this one. */
  #pendingEnds = new Map<string, PendingEnd>();
  /** Messages of a pipe whose reports name no peer, not yet paired, in order: sends and receipts. */
  #unpaired = new Map<string, { sends: Array<{ key: ProcessKey; name: string }>; receipts: Array<{ key: ProcessKey; name: string }> }>();
  #nextFlow = 1;
  #lost = 0;
  #counters = new Map<string, number>();
  /** One start and one exit per process or thread, whoever reports it (its parent, the runtime, itself, the launcher). */
  #started = new Set<ProcessKey>();
  #exited = new Set<ProcessKey>();
  #remoteRows = new Map<string, number>();
  /** Single-process mode: connection → the inline process its events are now on behalf of (a `context` event says). */
  #contexts = new Map<ProcessKey, ProcessKey>();

  constructor(t0 = Date.now()) {
    this.#t0 = t0;
  }

  /** Trace events kept so far. */
  get size(): number {
    return this.#events.length;
  }

  hello(key: ProcessKey, hello: Hello, ts = Date.now()): void {
    const { pid, tid } = split(key);
    this.#time(ts);
    const label = `${hello.name} · ${hello.role} · pid ${hello.pid}`;
    if (tid === 0) {
      this.#push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: label } });
      this.#push({ name: 'thread_name', ph: 'M', pid, tid: 0, args: { name: 'main' } });
    } else this.#push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: hello.name } });
    this.#named.add(key);
    this.#push({
      name: `${hello.name} started`,
      ph: 'i',
      s: 't',
      pid,
      tid,
      ts: this.#us(ts),
      cat: 'Process',
      args: { startMethod: hello.startMethod, role: hello.role },
    });
  }

  events(key: ProcessKey, events: readonly RuntimeEvent[]): void {
    for (const e of events) this.event(key, e);
  }

  event(key: ProcessKey, e: RuntimeEvent): void {
    if (e.t === 'context') {
      if (e.key === undefined) this.#contexts.delete(key);
      else this.#contexts.set(key, e.key);
      return;
    }
    // What an inline process does, on its host's connection, is drawn on its own row.
    key = this.#contexts.get(key) ?? key;
    const { pid, tid } = split(key);
    this.#time(e.ts);
    const ts = this.#us(e.ts);
    switch (e.t) {
      case 'object':
        this.#objects.set(e.id, { kind: e.kind, label: e.label ?? e.id });
        return;
      case 'identity':
        if (e.name !== undefined) {
          if (tid === 0) this.#push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: `${e.name} · ${e.role ?? 'process'} · pid ${pid}` } });
          else this.#push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: e.name } });
        }
        return;
      case 'child.start':
        if (this.#started.has(e.key)) return;
        this.#started.add(e.key);
        if (e.startMethod === 'inline') {
          const row = split(e.key);
          this.#push({ name: 'thread_name', ph: 'M', pid: row.pid, tid: row.tid, args: { name: `${e.name} (inline)` } });
        }
        this.#push({ name: `start ${e.name}`, ph: 'i', s: 't', pid, tid, ts, cat: 'Process', args: { child: e.key, startMethod: e.startMethod } });
        return;
      case 'child.exit': {
        this.#closeWait(e.key, e.ts);
        if (this.#exited.has(e.key)) return;
        this.#exited.add(e.key);
        const child = split(e.key);
        this.#push({
          name: e.signal ? `killed by ${e.signal}` : `exit ${e.exitCode}`,
          ph: 'i',
          s: 'p',
          pid: child.pid,
          tid: child.tid,
          ts,
          cat: 'Process',
          args: { exitCode: e.exitCode, signal: e.signal ?? null },
        });
        return;
      }
      case 'state':
        this.#closeWait(key, e.ts);
        if (e.state === 'waiting' && e.on)
          this.#waits.set(key, { ts: e.ts, id: e.on.id, ...(e.site ? { site: `${e.site.file}:${e.site.line}:${e.site.column}` } : {}) });
        return;
      case 'sync': {
        if (e.op === 'wait') {
          this.#closeWait(key, e.ts);
          this.#waits.set(key, { ts: e.ts, id: e.id, ...(e.site ? { site: `${e.site.file}:${e.site.line}:${e.site.column}` } : {}) });
        } else if ((e.op === 'acquire' || e.op === 'timeout') && this.#waits.get(key)?.id === e.id)
          this.#closeWait(key, e.ts, e.op === 'timeout' ? 'timed out' : undefined);
        const o = this.#object(e.id, 'Lock');
        if (e.op !== 'wait')
          this.#push({
            name: `${o.kind} ${e.op} ${o.label}`,
            ph: 'i',
            s: 't',
            pid,
            tid,
            ts,
            cat: o.kind,
            args: { id: e.id, kind: o.kind, holder: e.holder ?? null },
          });
        return;
      }
      case 'queue': {
        const o = this.#object(e.id, 'Queue');
        this.#push({ name: `${o.kind} ${o.label} depth`, ph: 'C', pid, tid: 0, ts, cat: o.kind, args: { depth: e.depth } });
        // Without message ids, a FIFO queue's n-th get is its n-th put.
        this.#flows(
          o.kind,
          o.label,
          pid,
          tid,
          ts,
          e.putIds ?? this.#sequence(`${e.id}:put`, e.id, e.puts),
          e.getIds ?? this.#sequence(`${e.id}:get`, e.id, e.gets),
        );
        return;
      }
      case 'pipe': {
        const o = this.#object(e.id, 'Pipe');
        this.#push({ name: `${o.kind} ${o.label} bytes`, ph: 'C', pid, tid: 0, ts, cat: o.kind, args: { sent: e.bytesSent, received: e.bytesReceived } });
        // Without message ids, a pipe is FIFO per direction: the n-th receipt from a peer is its n-th send.
        const sends =
          e.sendIds ??
          (e.peer !== undefined
            ? this.#sequence(`${e.id}:${key}>${e.peer}:s`, `${e.id}:${key}>${e.peer}`, e.sent)
            : this.#pairInOrder(e.id, key, 'sends', e.sent));
        const receipts =
          e.recvIds ??
          (e.peer !== undefined
            ? this.#sequence(`${e.id}:${e.peer}>${key}:r`, `${e.id}:${e.peer}>${key}`, e.received)
            : this.#pairInOrder(e.id, key, 'receipts', e.received));
        this.#flows(o.kind, o.label, pid, tid, ts, sends, receipts, e.peer);
        return;
      }
      case 'task': {
        const id = `${e.pool}#${e.task}`;
        if (e.op === 'started')
          this.#tasks.set(id, { ts: e.ts, ...(e.worker !== undefined ? { worker: e.worker } : {}), ...(e.fn !== undefined ? { fn: e.fn } : {}) });
        else if (e.op === 'done' || e.op === 'failed') {
          const started = this.#tasks.get(id);
          if (!started) return;
          this.#tasks.delete(id);
          const where = split(started.worker ?? e.worker ?? key);
          this.#push({
            name: started.fn ?? e.fn ?? 'task',
            ph: 'X',
            pid: where.pid,
            tid: where.tid,
            ts: this.#us(started.ts),
            dur: Math.max(1, this.#us(e.ts) - this.#us(started.ts)),
            cat: 'Pool',
            args: { pool: e.pool, task: e.task, kind: 'Pool', outcome: e.op, ...(e.error ? { error: e.error } : {}) },
          });
        }
        return;
      }
      case 'log':
        this.#push({ name: e.text.slice(0, 200), ph: 'i', s: 't', pid, tid, ts, cat: 'log', args: { level: e.level } });
        return;
      case 'dropped':
        this.#push({ name: `${e.count} events dropped`, ph: 'i', s: 'p', pid, tid, ts, cat: 'forkscope' });
        return;
      case 'pool':
        // Counted tasks carry no spans; the pool's first tasks of each interval come as `task` events above.
        this.#push({ name: `Pool ${e.pool} tasks`, ph: 'C', pid, tid: 0, ts, cat: 'Pool', args: { done: e.done, failed: e.failed } });
        return;
      case 'manager': {
        // A slice per detailed call: the caller's from call to reply, the server's while it handled it; one arrow
        // joins them by the id the request carried. Counted calls show as a running total.
        const serve = e.side === 'serve';
        for (const c of e.calls) {
          const start = this.#us(c.start);
          this.#push({
            name: `${serve ? 'serve' : 'Manager'} ${c.typeid}.${c.method}`,
            ph: 'X',
            pid,
            tid,
            ts: start,
            dur: Math.max(1, Math.round(c.ms * 1000)),
            cat: 'Manager',
            args: { manager: e.manager, typeid: c.typeid, method: c.method, outcome: c.outcome, ...(c.error ? { error: c.error } : {}) },
          });
          const phase = serve ? 'f' : 's';
          this.#push({
            name: 'Manager call',
            ph: phase,
            ...(serve ? { bp: 'e' as const } : {}),
            pid,
            tid,
            ts: start,
            id: this.#flowId(`manager:${c.id}`, { phase, ts: start, kind: 'Manager', label: e.manager }),
            cat: 'Manager',
          });
        }
        let counted = 0;
        for (const c of Object.values(e.counted ?? {})) counted += c.calls;
        if (counted > 0) {
          const name = `${e.manager}:${key}:${e.side}`;
          const total = (this.#counters.get(name) ?? 0) + counted;
          this.#counters.set(name, total);
          this.#push({
            name: `Manager ${e.manager} ${serve ? 'served' : 'calls'} (counted)`,
            ph: 'C',
            pid,
            tid: 0,
            ts,
            cat: 'Manager',
            args: { calls: total },
          });
        }
        return;
      }
      case 'cluster':
        this.#push({
          name: `cluster ${e.queue} jobs`,
          ph: 'C',
          pid,
          tid: 0,
          ts,
          cat: 'Cluster',
          args: { waiting: e.waiting, active: e.active, failed: e.failed, retried: e.retried },
        });
        return;
      case 'job': {
        const message = `${e.cluster}#${e.job}`;
        if (e.op === 'submitted') {
          this.#push({ name: `submit ${e.fn ?? 'task'}`, ph: 'X', pid, tid, ts, dur: 1, cat: 'Cluster', args: { job: e.job, cluster: e.cluster } });
          this.#push({
            name: 'cluster job',
            ph: 's',
            pid,
            tid,
            ts,
            id: this.#flowId(message, { phase: 's', ts, kind: 'Pool', label: e.cluster }),
            cat: 'Cluster',
          });
        } else if (e.op === 'retried') {
          this.#push({ name: `retry ${e.fn ?? 'task'}`, ph: 'i', s: 't', pid, tid, ts, cat: 'Cluster', args: { job: e.job } });
        } else if (e.worker !== undefined) {
          // The run is drawn on the worker's own row, joined to its submit by the arrow.
          const row = this.#remoteRow(e.worker, e.pid);
          const start = e.startedAt !== undefined ? Math.min(ts, this.#us(e.startedAt)) : ts;
          this.#push({
            name: e.fn ?? 'task',
            ph: 'X',
            pid: row,
            tid: 0,
            ts: start,
            dur: Math.max(1, ts - start),
            cat: 'Cluster',
            args: { job: e.job, cluster: e.cluster, outcome: e.op, ...(e.error ? { error: e.error } : {}) },
          });
          this.#push({
            name: 'cluster job',
            ph: 'f',
            bp: 'e',
            pid: row,
            tid: 0,
            ts: start,
            id: this.#flowId(message, { phase: 'f', ts: start, kind: 'Pool', label: e.cluster }),
            cat: 'Cluster',
          });
        } else
          this.#push({
            name: `${e.fn ?? 'task'} ${e.op}`,
            ph: 'i',
            s: 't',
            pid,
            tid,
            ts,
            cat: 'Cluster',
            args: { job: e.job, ...(e.error ? { error: e.error } : {}) },
          });
        return;
      }
    }
  }

  /** A row of its own per remote worker (`name@host`): pids of other machines would collide with this one's. */
  #remoteRow(worker: string, pid: number | undefined): number {
    let row = this.#remoteRows.get(worker);
    if (row === undefined) {
      row = REMOTE_ROWS + this.#remoteRows.size;
      this.#remoteRows.set(worker, row);
      this.#push({ name: 'process_name', ph: 'M', pid: row, tid: 0, args: { name: `${worker} · remote worker${pid ? ` · pid ${pid}` : ''}` } });
      this.#push({ name: 'thread_name', ph: 'M', pid: row, tid: 0, args: { name: 'jobs' } });
    }
    return row;
  }

  /** A process ended without a parent to say so (the root): closes what it had open. */
  processExited(key: ProcessKey, exitCode: number | null, signal: string | null, ts = Date.now()): void {
    this.#closeWait(key, ts);
    this.event(key, { t: 'child.exit', ts, key, exitCode, signal });
  }

  /** The trace as Chrome's JSON object format. */
  toJSON(): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, unknown> } {
    const open: TraceEvent[] = [];
    for (const [key, wait] of this.#waits) open.push(this.#waitEvent(key, wait, this.#lastTs(), 'still waiting'));
    return {
      traceEvents: [...this.#events, ...this.#otherEnds(), ...open],
      displayTimeUnit: 'ms',
      otherData: { producer: 'forkscope', eventsLost: this.#lost },
    };
  }

  writeTo(path: string): void {
    writeFileSync(path, JSON.stringify(this.toJSON()));
  }

  #flows(
    kind: ObjectKind,
    label: string,
    pid: number,
    tid: number,
    ts: number,
    sends: string[] | undefined,
    receipts: string[] | undefined,
    peer?: ProcessKey,
  ): void {
    // Each end gets a short slice so the arrow has something to bind to in Perfetto.
    if (sends?.length) {
      this.#push({ name: `${kind} send ${label}`, ph: 'X', pid, tid, ts, dur: 1, cat: kind, args: { messages: sends.length, kind } });
      for (const m of sends)
        this.#push({ name: `${kind} message`, ph: 's', pid, tid, ts, id: this.#flowId(m, { phase: 's', ts, kind, label, peer }), cat: kind });
    }
    if (receipts?.length) {
      this.#push({ name: `${kind} receive ${label}`, ph: 'X', pid, tid, ts, dur: 1, cat: kind, args: { messages: receipts.length, kind } });
      for (const m of receipts)
        this.#push({ name: `${kind} message`, ph: 'f', bp: 'e', pid, tid, ts, id: this.#flowId(m, { phase: 'f', ts, kind, label, peer }), cat: kind });
    }
  }

  /**
   * Names for `count` more sends (or receipts) at `key` on a pipe whose reports name no peer: each pairs,
   * in order, with the oldest unpaired receipt (or send) at another end. A pipe is FIFO per direction.
   */
  #pairInOrder(pipe: string, key: ProcessKey, side: 'sends' | 'receipts', count: number): string[] | undefined {
    if (count <= 0) return undefined;
    let lists = this.#unpaired.get(pipe);
    if (!lists) this.#unpaired.set(pipe, (lists = { sends: [], receipts: [] }));
    const mine = lists[side];
    const theirs = lists[side === 'sends' ? 'receipts' : 'sends'];
    const names: string[] = [];
    for (let n = 0; n < count; n++) {
      const i = theirs.findIndex((m) => m.key !== key);
      if (i !== -1) {
        names.push(theirs[i]!.name);
        theirs.splice(i, 1);
        continue;
      }
      const next = this.#counters.get(`${pipe}:unpaired`) ?? 0;
      if (next >= MAX_FLOWS_PER_CHANNEL) break;
      this.#counters.set(`${pipe}:unpaired`, next + 1);
      const name = `${pipe}#${next}`;
      mine.push({ key, name });
      names.push(name);
    }
    return names.length ? names : undefined;
  }

  /** Message names for `count` more messages on a FIFO channel; only the first MAX_FLOWS_PER_CHANNEL get arrows. */
  #sequence(counter: string, channel: string, count: number): string[] | undefined {
    if (count <= 0) return undefined;
    const start = this.#counters.get(counter) ?? 0;
    this.#counters.set(counter, start + count);
    const end = Math.min(start + count, MAX_FLOWS_PER_CHANNEL);
    const names: string[] = [];
    for (let n = start; n < end; n++) names.push(`${channel}#${n}`);
    return names.length ? names : undefined;
  }

  #flowId(message: string, end: Omit<PendingEnd, 'id'>): number {
    const pending = this.#pendingEnds.get(message);
    if (pending && pending.phase !== end.phase) {
      this.#pendingEnds.delete(message); // both ends seen: the pairing is done
      return pending.id;
    }
    const id = this.#nextFlow++;
    this.#pendingEnds.set(message, { id, ...end });
    return id;
  }

  /**
   * The other end of each message that only one side reported (the thread that starts a worker counts both
   * directions of its channel; a child the preload cannot reach reports nothing): drawn on the peer's track
   * at the report's time, so every counted message is one joined arrow.
   */
  #otherEnds(): TraceEvent[] {
    const out: TraceEvent[] = [];
    const slices = new Set<string>();
    for (const end of this.#pendingEnds.values()) {
      if (end.peer === undefined) continue;
      const { pid, tid } = split(end.peer);
      const phase = end.phase === 's' ? 'f' : 's';
      const slice = `${pid}/${tid}@${end.ts}:${end.kind}:${phase}`;
      if (!slices.has(slice)) {
        slices.add(slice);
        out.push({
          name: `${end.kind} ${phase === 'f' ? 'receive' : 'send'} ${end.label}`,
          ph: 'X',
          pid,
          tid,
          ts: end.ts,
          dur: 1,
          cat: end.kind,
          args: { kind: end.kind },
        });
      }
      out.push({ name: `${end.kind} message`, ph: phase, ...(phase === 'f' ? { bp: 'e' as const } : {}), pid, tid, ts: end.ts, id: end.id, cat: end.kind });
    }
    return out;
  }

  #closeWait(key: ProcessKey, ts: number, outcome?: string): void {
    const wait = this.#waits.get(key);
    if (!wait) return;
    this.#waits.delete(key);
    this.#push(this.#waitEvent(key, wait, ts, outcome));
  }

  #waitEvent(key: ProcessKey, wait: OpenWait, ts: number, outcome?: string): TraceEvent {
    const { pid, tid } = split(key);
    const o = this.#object(wait.id, 'Lock');
    return {
      name: `${o.kind} wait ${o.label}`,
      ph: 'X',
      pid,
      tid,
      ts: this.#us(wait.ts),
      dur: Math.max(1, this.#us(ts) - this.#us(wait.ts)),
      cat: o.kind,
      args: { id: wait.id, kind: o.kind, ...(wait.site ? { site: wait.site } : {}), ...(outcome ? { outcome } : {}) },
    };
  }

  #object(id: string, fallback: ObjectKind): { kind: ObjectKind; label: string } {
    return this.#objects.get(id) ?? { kind: fallback, label: id };
  }

  #push(event: TraceEvent): void {
    if (this.#events.length >= MAX_EVENTS) {
      this.#lost++;
      return;
    }
    this.#events.push(event);
  }

  #time(ts: number): void {
    this.#last = Math.max(this.#last, ts);
  }

  #last = 0;
  #lastTs(): number {
    return this.#last;
  }

  /** Microseconds since the first event: Chrome's unit. */
  #us(ts: number): number {
    return Math.max(0, Math.round((ts - this.#t0) * 1000));
  }
}

function split(key: ProcessKey): { pid: number; tid: number } {
  // An inline process (single-process mode, `pid~n`) is a row of its host process.
  const tilde = key.indexOf('~');
  if (tilde !== -1) return { pid: Number(key.slice(0, tilde)), tid: 1_000_000 + Number(key.slice(tilde + 1)) };
  const slash = key.indexOf('/');
  return slash === -1 ? { pid: Number(key), tid: 0 } : { pid: Number(key.slice(0, slash)), tid: Number(key.slice(slash + 1)) };
}
