// The program model's processes and threads: who said hello, who started whom, running/waiting/exited, what each
// waits on (and so the waiters of locks), CPU and memory from the sampler, and what an exit leaves behind.
import type { Hello, ObjectKind, ProcessKey, RuntimeEvent, SourceLocation } from '../../runtime/src/protocol';
import type { ProcessNode } from '../snapshot';
import { poolsProcessExited, poolWorker } from './pools';
import { touch, type ModelState } from './state';
import { removeWaiter, SYNC_KINDS, syncNode, syncsProcessExited } from './syncs';

/** A hostile or runaway program cannot grow the model without bound. */
const MAX_PROCESSES = 20_000;

/** A process or worker said hello. Returns its key. */
export function reduceHello(m: ModelState, hello: Hello, ts: number): ProcessKey {
  const key = hello.threadId === 0 ? String(hello.pid) : `${hello.pid}/${hello.threadId}`;
  let node = m.processes.get(key);
  const parent = hello.parent ?? guessParent(m, hello.pid, hello.ppid, hello.threadId);
  if (!node) {
    if (m.processes.size >= MAX_PROCESSES) return key;
    node = {
      key,
      pid: hello.pid,
      threadId: hello.threadId,
      name: hello.name,
      role: hello.role,
      startMethod: hello.startMethod,
      state: 'running',
      startedAt: ts,
    };
    if (parent !== undefined) node.parent = parent;
    m.processes.set(key, node);
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
  if (!hello.announceOnly) m.greeted.add(key);
  touch(m);
  return key;
}

export function reduceIdentity(m: ModelState, key: ProcessKey, event: Extract<RuntimeEvent, { t: 'identity' }>): void {
  const node = m.processes.get(key);
  if (!node) return;
  if (event.name !== undefined) node.name = event.name;
  if (event.role !== undefined) {
    node.role = event.role;
    if (event.role !== 'external') delete node.external;
  }
  if (event.startMethod !== undefined) node.startMethod = event.startMethod;
  if (event.parent !== undefined) node.parent = event.parent;
  if (event.inspectorUrl !== undefined) node.inspectorUrl = event.inspectorUrl;
  touch(m);
}

/** The process `key` started a child (or a pool's worker). */
export function reduceChildStart(m: ModelState, key: ProcessKey, event: Extract<RuntimeEvent, { t: 'child.start' }>): void {
  let node = m.processes.get(event.key);
  if (!node) {
    if (m.processes.size >= MAX_PROCESSES) return;
    // An external thread may never say hello itself (its parent reports it): it runs once started.
    // An inline process (single-process mode) runs in its host and never says hello: it runs once started.
    const state = (event.role === 'external' && event.threadId !== 0) || event.startMethod === 'inline' ? 'running' : 'starting';
    node = {
      key: event.key,
      pid: event.pid,
      threadId: event.threadId,
      name: event.name,
      role: event.role,
      startMethod: event.startMethod,
      state,
      startedAt: event.ts,
      parent: key,
    };
    if (event.role === 'external') node.external = true;
    m.processes.set(event.key, node);
  } else if (event.role !== 'external' || node.external) {
    // The runtime's account of a child beats the preload's (which sees every spawn as external).
    node.name = event.name;
    node.role = event.role;
    node.startMethod = event.startMethod;
    if (node.parent === undefined) node.parent = key;
    if (event.role !== 'external') delete node.external;
  }
  if (event.pool !== undefined) poolWorker(m, event.pool, event.key);
  touch(m);
}

/** The process `key` runs, or waits on `on` (a lock's waiter from now, with its call site). */
export function reduceState(
  m: ModelState,
  key: ProcessKey,
  state: ProcessNode['state'],
  on: string | undefined,
  kind: ObjectKind | undefined,
  site: SourceLocation | undefined,
  ts: number,
): void {
  const node = m.processes.get(key);
  if (!node || node.state === 'exited') return;
  if (node.waitingOn !== undefined && node.waitingOn !== on) leaveWait(m, node, node.waitingOn);
  node.state = state;
  if (state === 'waiting' && on !== undefined) {
    if (node.waitingOn !== on) node.waitingSince = ts;
    node.waitingOn = on;
    if (site) node.waitSite = site;
    else delete node.waitSite;
    const objectKind = kind ?? m.objects.get(on)?.kind;
    if (objectKind && SYNC_KINDS.has(objectKind)) {
      const s = syncNode(m, on, objectKind);
      if (!s.waiters.some((w) => w.key === key)) s.waiters.push(site ? { key, since: ts, site } : { key, since: ts });
      touch(m);
    }
  } else {
    delete node.waitingOn;
    delete node.waitingSince;
    delete node.waitSite;
  }
  m.graphDirty = true;
  touch(m);
}

function leaveWait(m: ModelState, node: ProcessNode, id: string): void {
  const s = m.syncs.get(id);
  if (s && removeWaiter(s, node.key)) touch(m);
}

/** A process ended (its parent saw it, or the launcher did). Whatever it held is marked as held by the dead. */
export function processExited(m: ModelState, key: ProcessKey, exitCode: number | null, signal: string | null, ts: number): void {
  const node = m.processes.get(key);
  if (!node) return;
  node.exitCode = exitCode;
  node.signal = signal;
  if (node.state !== 'exited') markExited(m, node, ts);
  touch(m);
}

/** A connection closed: the process is gone, though its exit code may still come from its parent. */
export function disconnected(m: ModelState, key: ProcessKey, ts: number): void {
  const node = m.processes.get(key);
  if (!node || node.state === 'exited') return;
  markExited(m, node, ts);
  touch(m);
}

/** CPU (percent) and memory (bytes) from a process listing; `ppid` adds a descendant that does not report (not Node). */
export function sampled(m: ModelState, sample: { pid: number; ppid?: number; name?: string; cpu?: number; memory?: number }): void {
  const key = String(sample.pid);
  let node = m.processes.get(key);
  if (!node) {
    if (sample.ppid === undefined || m.processes.size >= MAX_PROCESSES) return;
    const parent = m.processes.get(String(sample.ppid));
    if (!parent) return;
    node = {
      key,
      pid: sample.pid,
      threadId: 0,
      parent: parent.key,
      name: sample.name ?? `pid ${sample.pid}`,
      role: 'external',
      startMethod: 'spawn',
      state: 'running',
      startedAt: m.now,
      external: true,
    };
    m.processes.set(key, node);
  } else if (node.cpu === sample.cpu && node.memory === sample.memory) return;
  if (sample.cpu !== undefined) node.cpu = sample.cpu;
  if (sample.memory !== undefined) node.memory = sample.memory;
  touch(m);
}

/**
 * One sampling round is over and `pids` were alive: a process that never said hello (the preload cannot
 * reach it: a replaced environment, not Node) runs while the sampler sees it, and has exited once it does not.
 */
export function sampledRound(m: ModelState, pids: readonly number[], ts: number): void {
  const alive = new Set(pids);
  for (const node of m.processes.values()) {
    if (node.threadId !== 0 || node.state === 'exited' || m.greeted.has(node.key)) continue;
    if (alive.has(node.pid)) {
      m.sampledAlive.add(node.key);
      if (node.state === 'starting' && node.external) {
        node.state = 'running';
        touch(m);
      }
    } else if (m.sampledAlive.has(node.key)) {
      markExited(m, node, ts);
      touch(m);
    }
  }
}

/** Pids of processes that have not exited, for the sampler. */
export function livePids(m: ModelState): number[] {
  const pids: number[] = [];
  for (const node of m.processes.values()) if (node.threadId === 0 && node.state !== 'exited') pids.push(node.pid);
  return pids;
}

function markExited(m: ModelState, node: ProcessNode, ts: number): void {
  if (node.threadId === 0) {
    // A thread ends with its process, whether or not anyone reported its own end.
    for (const thread of m.processes.values()) {
      if (thread.pid !== node.pid || thread.threadId === 0 || thread.state === 'exited') continue;
      markExited(m, thread, ts);
      touch(m);
    }
  }
  if (node.waitingOn !== undefined) leaveWait(m, node, node.waitingOn);
  node.state = 'exited';
  node.exitedAt = ts;
  delete node.waitingOn;
  delete node.waitingSince;
  delete node.waitSite;
  // What the dead held stays shown, marked: its waiters would otherwise look merely slow.
  syncsProcessExited(m, node.key);
  poolsProcessExited(m, node.key);
  m.graphDirty = true;
}

function guessParent(m: ModelState, pid: number, ppid: number, threadId: number): ProcessKey | undefined {
  if (threadId !== 0) return String(pid);
  const parent = m.processes.get(String(ppid));
  return parent ? parent.key : undefined;
}

export function copyProcess(p: ProcessNode): ProcessNode {
  return p.waitSite ? { ...p, waitSite: { ...p.waitSite } } : { ...p };
}
