// The program model's locks, semaphores, events, conditions and barriers: holder, waiters with their call sites,
// what the dead held. The waits themselves are the processes' (processes.ts); deadlocks are deadlocks.ts's.
import type { ObjectCreated, ObjectKind, ProcessKey, RuntimeEvent } from '../../runtime/src/protocol';
import type { SyncNode, Waiter } from '../snapshot';
import { labelOf, touch, type ModelState } from './state';

export const SYNC_KINDS = new Set<ObjectKind>(['Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Event', 'Condition', 'Barrier']);

export function syncNode(m: ModelState, id: string, kindHint: ObjectKind = 'Lock'): SyncNode {
  let s = m.syncs.get(id);
  if (!s) {
    const { kind, label, site } = labelOf(m, id, kindHint);
    s = { id, kind, label, holder: null, waiters: [] };
    if (site) s.site = site;
    m.syncs.set(id, s);
  }
  return s;
}

export function syncCreated(m: ModelState, event: ObjectCreated, label: string): void {
  const s = syncNode(m, event.id);
  s.kind = event.kind;
  s.label = label;
  if (event.site) s.site = event.site;
  touch(m);
}

export function reduceSync(m: ModelState, key: ProcessKey, event: Extract<RuntimeEvent, { t: 'sync' }>): void {
  const s = syncNode(m, event.id);
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
      const site = event.site ?? (holder !== null ? m.processes.get(holder)?.waitSite : undefined);
      if (site && (holder === key || event.site === undefined)) s.acquiredAt = site;
      else delete s.acquiredAt;
      s.ownerDied = false;
      if (holder !== null) removeWaiter(s, holder);
      stopWaiting(m, holder ?? key, event.id);
      break;
    }
    case 'release':
      s.holder = event.holder == null ? null : normalizeKey(event.holder);
      delete s.heldSince;
      delete s.acquiredAt;
      break;
    case 'timeout':
      removeWaiter(s, key);
      stopWaiting(m, key, event.id);
      break;
    // A broken Barrier (isSet shows "broken") lets its waiters go, as a set Event does.
    case 'set':
    case 'broken':
      s.isSet = true;
      for (const w of s.waiters.splice(0)) stopWaiting(m, w.key, event.id);
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
  m.graphDirty = true;
  touch(m);
}

/** The process `key` no longer waits on `id`: it got it, timed out or was let go. */
function stopWaiting(m: ModelState, key: ProcessKey, id: string): void {
  const node = m.processes.get(key);
  if (!node || node.waitingOn !== id) return;
  delete node.waitingOn;
  delete node.waitingSince;
  delete node.waitSite;
  if (node.state === 'waiting') node.state = 'running';
  touch(m);
}

/** The process `key` exited: what it held stays shown, marked; its waits are gone. */
export function syncsProcessExited(m: ModelState, key: ProcessKey): void {
  for (const s of m.syncs.values()) {
    if (s.holder === key) {
      s.ownerDied = true;
      touch(m);
    }
    if (removeWaiter(s, key)) touch(m);
  }
}

/** `pid/0` (a main thread, as the runtime's context ids spell it) is the process key `pid`. */
function normalizeKey(key: string): string {
  return key.endsWith('/0') ? key.slice(0, -2) : key;
}

export function removeWaiter(s: SyncNode, key: ProcessKey): boolean {
  const i = s.waiters.findIndex((w) => w.key === key);
  if (i === -1) return false;
  s.waiters.splice(i, 1);
  return true;
}

export function copySync(s: SyncNode): SyncNode {
  return { ...s, waiters: s.waiters.map((w: Waiter) => ({ ...w })) };
}
