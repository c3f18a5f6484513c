// Renders a program snapshot as text for the terminal: the process tree with states, then queues,
// pipes, locks, pools, managers and remote workers on one line each. Pure: no I/O, no Node or vscode imports.
import type { ClusterNode, ProcessNode, ProgramSnapshot, SyncNode } from './snapshot';
import { formatBytes } from './units';

const MAX_CHILDREN_SHOWN = 12;

/** The live tree, as lines without trailing newlines. `width` truncates long lines on a TTY. */
export function renderTree(snapshot: ProgramSnapshot, options: { width?: number; now?: number } = {}): string[] {
  const lines: string[] = [];
  const byParent = new Map<string | undefined, ProcessNode[]>();
  const keys = new Set(snapshot.processes.map((p) => p.key));
  for (const p of snapshot.processes) {
    const parent = p.parent !== undefined && keys.has(p.parent) ? p.parent : undefined;
    const list = byParent.get(parent) ?? [];
    list.push(p);
    byParent.set(parent, list);
  }
  const names = new Map(snapshot.processes.map((p) => [p.key, p.name]));
  const labels = new Map<string, string>();
  for (const o of [...snapshot.syncs, ...snapshot.queues, ...snapshot.pipes]) labels.set(o.id, `${o.kind} ${o.label}`);
  const walk = (parent: string | undefined, prefix: string): void => {
    const children = byParent.get(parent) ?? [];
    const shown = children.slice(0, MAX_CHILDREN_SHOWN);
    shown.forEach((p, i) => {
      const last = i === shown.length - 1 && children.length <= MAX_CHILDREN_SHOWN;
      const branch = parent === undefined ? '' : last ? '└─ ' : '├─ ';
      lines.push(`${prefix}${branch}${describeProcess(p, labels, options.now)}`);
      walk(p.key, parent === undefined ? prefix : prefix + (last ? '   ' : '│  '));
    });
    if (children.length > MAX_CHILDREN_SHOWN) lines.push(`${prefix}└─ … ${children.length - MAX_CHILDREN_SHOWN} more`);
  };
  walk(undefined, '');
  const queues = snapshot.queues.map((q) => `${q.label} ${q.depth}${q.maxsize ? `/${q.maxsize}` : ''}`);
  if (queues.length) lines.push(`queues: ${queues.join(' · ')}`);
  const pipes = snapshot.pipes.map(
    (p) => `${p.label} ${p.messages} msg ${formatBytes(p.bytes)}${p.messagesPerSecond ? ` (${round(p.messagesPerSecond)}/s)` : ''}`,
  );
  if (pipes.length) lines.push(`pipes: ${pipes.join(' · ')}`);
  const locks = snapshot.syncs.filter((s) => s.holder || s.waiters.length).map((s) => describeSync(s, names));
  if (locks.length) lines.push(`locks: ${locks.join(' · ')}`);
  const pools = snapshot.pools.map(
    (p) => `${p.label} ${p.busy.length}/${p.workers.length} busy, ${p.queued} queued, ${p.done} done${p.failed ? `, ${p.failed} failed` : ''}`,
  );
  if (pools.length) lines.push(`pools: ${pools.join(' · ')}`);
  for (const c of snapshot.clusters ?? []) lines.push(...describeCluster(c));
  const managers = (snapshot.managers ?? []).map((m) => {
    const top = m.methods
      .slice(0, 3)
      .map((r) => `${r.typeid}.${r.method} ${r.calls}`)
      .join(', ');
    return `${m.label} ${m.calls} calls${m.errors ? `, ${m.errors} failed` : ''}, mean ${round(m.meanMs)} ms${top ? ` (${top})` : ''}`;
  });
  if (managers.length) lines.push(`managers: ${managers.join(' · ')}`);
  for (const d of snapshot.deadlocks) lines.push(`DEADLOCK ${d.message}`);
  return options.width ? lines.map((l) => (l.length > options.width! ? `${l.slice(0, options.width! - 1)}…` : l)) : lines;
}

export function describeProcess(p: ProcessNode, labels: Map<string, string> = new Map(), now?: number): string {
  let state: string = p.state;
  if (p.state === 'exited') state = p.signal ? `killed by ${p.signal}` : p.exitCode === undefined ? 'exited' : `exited ${p.exitCode}`;
  else if (p.state === 'waiting' && p.waitingOn) {
    state = `waiting on ${labels.get(p.waitingOn) ?? p.waitingOn}`;
    if (p.waitSite) state += ` at ${shortSite(p.waitSite.file)}:${p.waitSite.line}`;
    if (now !== undefined && p.waitingSince !== undefined) state += ` for ${round((now - p.waitingSince) / 1000)}s`;
  }
  const usage = p.cpu !== undefined ? ` · ${round(p.cpu)}% ${formatBytes(p.memory ?? 0)}` : '';
  return `${p.name} (pid ${p.pid}${p.threadId ? `, thread ${p.threadId}` : ''}${p.startMethod === 'inline' ? ', inline' : ''}) ${state}${usage}`;
}

/** A cluster's line, then a node per host with its workers: host, pid, capacity, program version, state and counts. */
export function describeCluster(c: ClusterNode): string[] {
  const lines = [
    `cluster ${c.queue} on redis ${c.address}: ${c.waiting} waiting, ${c.active} active${c.delayed ? `, ${c.delayed} delayed` : ''}, ${c.completed} completed, ${c.failed} failed, ${c.retried} retried`,
  ];
  const hosts = new Map<string, ClusterNode['workers']>();
  for (const w of c.workers) hosts.set(w.host, [...(hosts.get(w.host) ?? []), w]);
  [...hosts].forEach(([host, workers], i) => {
    const lastHost = i === hosts.size - 1;
    lines.push(`${lastHost ? '└─ ' : '├─ '}host ${host}`);
    workers.forEach((w, j) => {
      const state = w.alive ? (w.running ? `running ${w.running}` : 'idle') : 'gone';
      const program = w.program ? `, ${w.program}@${w.version}` : '';
      const mine = `${w.jobsDone} done${w.jobsFailed ? `, ${w.jobsFailed} failed` : ''}`;
      lines.push(
        `${lastHost ? '   ' : '│  '}${j === workers.length - 1 ? '└─ ' : '├─ '}worker ${w.name} (pid ${w.pid}${w.capacity ? `, capacity ${w.capacity}` : ''}${program}) ${state} · ${mine}`,
      );
    });
  });
  return lines;
}

function describeSync(s: SyncNode, names: Map<string, string>): string {
  const holder = s.holder ? `held by ${names.get(s.holder) ?? s.holder}${s.ownerDied ? ' (dead)' : ''}` : 'free';
  return `${s.kind} ${s.label} ${holder}${s.waiters.length ? `, ${s.waiters.length} waiting` : ''}`;
}

function shortSite(file: string): string {
  const slash = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return slash === -1 ? file : file.slice(slash + 1);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
