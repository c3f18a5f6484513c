// The program model's managers: calls counted per manager, method and caller from the callers' reports, the last
// few detailed calls, and who serves each manager from the server's reports.
import type { ProcessKey, RuntimeEvent } from '../../runtime/src/protocol';
import type { ManagerNode } from '../snapshot';
import { touch, type ModelState } from './state';

const MAX_MANAGERS = 1_000;
/** Per manager: distinct typeid.method rows and callers kept, and detailed calls shown. */
const MAX_MANAGER_ROWS = 256;
const MAX_RECENT_CALLS = 8;

export interface ManagerRecord extends ManagerNode {
  /** `typeid.method` → its row; the total time behind each mean. */
  byMethod: Map<string, ManagerNode['methods'][number] & { totalMs: number }>;
  byCaller: Map<ProcessKey, number>;
  totalMs: number;
}

/** Calls to a manager: counted from their callers' reports; the server's reports say who serves it. */
export function reduceManagerCalls(state: ModelState, key: ProcessKey, event: Extract<RuntimeEvent, { t: 'manager' }>): void {
  let m = state.managers.get(event.manager);
  if (!m) {
    if (state.managers.size >= MAX_MANAGERS) return;
    m = {
      id: event.manager,
      label: `Manager ${event.manager}`,
      calls: 0,
      errors: 0,
      served: 0,
      meanMs: 0,
      methods: [],
      callers: [],
      recent: [],
      byMethod: new Map(),
      byCaller: new Map(),
      totalMs: 0,
    };
    state.managers.set(event.manager, m);
  }
  if (event.side === 'serve') {
    m.server = key;
    m.served += event.calls.length;
    for (const c of Object.values(event.counted ?? {})) m.served += c.calls;
    return touch(state);
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
    m.recent.push({
      caller: key,
      typeid: c.typeid,
      method: c.method,
      ts: c.start,
      ms: c.ms,
      outcome: c.outcome,
      ...(c.error !== undefined ? { error: c.error } : {}),
    });
  }
  if (m.recent.length > MAX_RECENT_CALLS) m.recent.splice(0, m.recent.length - MAX_RECENT_CALLS);
  for (const [name, c] of Object.entries(event.counted ?? {})) {
    const dot = name.indexOf('.');
    add(dot === -1 ? name : name.slice(0, dot), dot === -1 ? '?' : name.slice(dot + 1), c.calls, c.errors, c.ms);
  }
  m.meanMs = m.calls > 0 ? m.totalMs / m.calls : 0;
  m.methods = [...m.byMethod.values()]
    .map(({ totalMs, ...row }) => ({ ...row, meanMs: row.calls > 0 ? totalMs / row.calls : 0 }))
    .sort((a, b) => b.calls - a.calls);
  m.callers = [...m.byCaller].map(([k, calls]) => ({ key: k, calls })).sort((a, b) => b.calls - a.calls);
  touch(state);
}

export function copyManager(m: ManagerRecord): ManagerNode {
  const node: ManagerNode = {
    id: m.id,
    label: m.label,
    calls: m.calls,
    errors: m.errors,
    served: m.served,
    meanMs: m.meanMs,
    methods: m.methods.map((r) => ({ ...r })),
    callers: m.callers.map((c) => ({ ...c })),
    recent: m.recent.map((c) => ({ ...c })),
  };
  if (m.server !== undefined) node.server = m.server;
  return node;
}
