// Tracks Forkscope debug sessions, their child (js-debug) sessions and the latest program snapshot of
// each, and which one the view follows (the active session's root). Snapshots arrive as the adapter's
// `forkscope/snapshot` custom DAP events, or through `publish` from code in the same extension host.
import * as vscode from 'vscode';
import { DEBUG_TYPE } from '../contributions';
import type { ProgramSnapshot } from '../../hub/snapshot';
import { withPausedProcesses } from './pausedOverlay';
import type { ViewContent } from './viewUpdater';

interface Tracked {
  session: vscode.DebugSession;
  snapshot: ProgramSnapshot | null;
  singleProcess?: boolean;
  hasEnded: boolean;
}

/** The tag the adapter puts in every child's attach configuration (src/debug/attachPlan.ts). */
interface ChildTag {
  key?: unknown;
  pid?: unknown;
}

function isSnapshot(value: unknown): value is ProgramSnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return typeof s.version === 'number' && ['processes', 'queues', 'pipes', 'syncs', 'pools', 'deadlocks'].every((k) => Array.isArray(s[k]));
}

function emptySnapshot(singleProcess: boolean): ProgramSnapshot {
  return {
    version: 0,
    processes: [],
    queues: [],
    pipes: [],
    syncs: [],
    pools: [],
    clusters: [],
    deadlocks: [],
    singleProcess,
    rejectedConnections: 0,
    droppedEvents: 0,
  };
}

export class ProgramSessions implements vscode.Disposable {
  readonly #roots = new Map<string, Tracked>();
  /** Every session seen, so child sessions can be found by process. */
  readonly #all = new Map<string, vscode.DebugSession>();
  readonly #changed = new vscode.EventEmitter<void>();
  readonly #newDeadlock = new vscode.EventEmitter<{ session: vscode.DebugSession; snapshot: ProgramSnapshot }>();
  readonly #disposables: vscode.Disposable[] = [];
  /** Child sessions stopped in the debugger, by session id, with the process key they debug. */
  readonly #stopped = new Map<string, string>();
  #followed: string | undefined;
  #overlaid: { from: ProgramSnapshot; paused: string; result: ProgramSnapshot } | undefined;

  /** Fires when what the view shows may have changed. */
  readonly onDidChange = this.#changed.event;
  /** Fires when a session's snapshot has a deadlock its previous one did not. */
  readonly onDidFindDeadlock = this.#newDeadlock.event;

  constructor() {
    this.#disposables.push(
      this.#changed,
      this.#newDeadlock,
      vscode.debug.onDidStartDebugSession((session) => {
        this.#all.set(session.id, session);
        if (session.type !== DEBUG_TYPE || this.rootOf(session) !== session) return;
        this.#roots.set(session.id, { session, snapshot: null, hasEnded: false });
        this.#follow(session.id);
      }),
      vscode.debug.onDidTerminateDebugSession((session) => {
        this.#all.delete(session.id);
        if (this.#stopped.delete(session.id)) this.#changed.fire();
        const tracked = this.#roots.get(session.id);
        if (!tracked) return;
        tracked.hasEnded = true;
        // Keep the last picture of an ended program (how its processes died) until another one runs.
        for (const [id, other] of this.#roots) if (id !== session.id && other.hasEnded) this.#roots.delete(id);
        const running = [...this.#roots.values()].find((t) => !t.hasEnded);
        if (running) this.#follow(running.session.id);
        else this.#changed.fire();
      }),
      vscode.debug.onDidChangeActiveDebugSession((session) => {
        const root = session && this.rootOf(session);
        if (root && this.#roots.has(root.id)) this.#follow(root.id);
      }),
      vscode.debug.onDidReceiveDebugSessionCustomEvent((event) => {
        if (event.session.type !== DEBUG_TYPE) return;
        if (event.event === 'forkscope/snapshot') {
          const snapshot = (event.body as { snapshot?: unknown } | undefined)?.snapshot;
          if (isSnapshot(snapshot)) this.publish(event.session, snapshot);
        } else if (event.event === 'forkscope/launched') {
          const tracked = this.#roots.get(event.session.id);
          if (tracked) {
            tracked.singleProcess = (event.body as { singleProcess?: unknown })?.singleProcess === true;
            if (this.#followed === event.session.id) this.#changed.fire();
          }
        }
      }),
    );
    for (const session of vscode.debug.activeDebugSession ? [vscode.debug.activeDebugSession] : []) this.#all.set(session.id, session);
    // js-debug's child sessions say when they stop and go on; the view shows those processes as paused.
    this.#disposables.push(
      vscode.debug.registerDebugAdapterTrackerFactory('pwa-node', {
        createDebugAdapterTracker: (session) => {
          const key = this.#processKeyOf(session);
          if (key === undefined) return undefined;
          const set = (isStopped: boolean) => {
            if (isStopped === this.#stopped.has(session.id)) return;
            if (isStopped) this.#stopped.set(session.id, key);
            else this.#stopped.delete(session.id);
            this.#changed.fire();
          };
          return {
            onDidSendMessage: (m: { type?: string; event?: string }) => {
              if (m.type === 'event' && m.event === 'stopped') set(true);
              else if (m.type === 'event' && (m.event === 'continued' || m.event === 'terminated')) set(false);
            },
            onWillReceiveMessage: (m: { type?: string; command?: string }) => {
              if (m.type === 'request' && ['continue', 'next', 'stepIn', 'stepOut', 'disconnect', 'terminate'].includes(m.command ?? '')) set(false);
            },
            onExit: () => set(false),
          };
        },
      }),
    );
  }

  /** The process a (js-debug) session debugs: the key in its own or an ancestor's `__forkscope` tag. */
  #processKeyOf(session: vscode.DebugSession): string | undefined {
    let current: vscode.DebugSession | undefined = session;
    for (let depth = 0; current && depth < 32; depth++, current = current.parentSession) {
      const key = (current.configuration.__forkscope as ChildTag | undefined)?.key;
      if (typeof key === 'string') return key;
    }
    return undefined;
  }

  /** Hands the view a new snapshot of a session's program. */
  publish(session: vscode.DebugSession, snapshot: ProgramSnapshot): void {
    let tracked = this.#roots.get(session.id);
    if (!tracked) {
      tracked = { session, snapshot: null, hasEnded: false };
      this.#roots.set(session.id, tracked);
      this.#followed ??= session.id;
    }
    const hadDeadlock = new Set((tracked.snapshot?.deadlocks ?? []).map((d) => d.message));
    tracked.snapshot = snapshot;
    if (snapshot.deadlocks.some((d) => !hadDeadlock.has(d.message))) this.#newDeadlock.fire({ session, snapshot });
    if (this.#followed === session.id) this.#changed.fire();
  }

  /** What the view shows: the followed program, an ended one's last picture, or nothing. */
  content(): ViewContent {
    const tracked = this.#followed ? this.#roots.get(this.#followed) : undefined;
    if (!tracked) return { snapshot: null };
    let snapshot = tracked.snapshot ?? emptySnapshot(tracked.singleProcess ?? tracked.session.configuration.singleProcess === true);
    if (!tracked.hasEnded && this.#stopped.size > 0) {
      const paused = [...new Set(this.#stopped.values())].sort().join(',');
      // Cached so an unchanged picture stays the same object for the updater and the tree.
      if (this.#overlaid?.from !== snapshot || this.#overlaid.paused !== paused)
        this.#overlaid = { from: snapshot, paused, result: withPausedProcesses(snapshot, new Set(this.#stopped.values())) };
      snapshot = this.#overlaid.result;
    }
    return { snapshot, sessionName: tracked.hasEnded ? `${tracked.session.name} (ended)` : tracked.session.name };
  }

  /** The followed root session while its program runs. */
  get followed(): vscode.DebugSession | undefined {
    const tracked = this.#followed ? this.#roots.get(this.#followed) : undefined;
    return tracked && !tracked.hasEnded ? tracked.session : undefined;
  }

  /** The Forkscope session a (child) session belongs to. */
  rootOf(session: vscode.DebugSession): vscode.DebugSession {
    let current = session;
    for (let depth = 0; current.parentSession && depth < 32; depth++) current = current.parentSession;
    return current;
  }

  /** The process keys of the followed program: messages from the view may only name these. */
  hasProcess(key: string): boolean {
    return this.content().snapshot?.processes.some((p) => p.key === key) === true;
  }

  /**
   * The debug sessions of one process of the followed program, outermost first: the attach session the
   * adapter asked for (tagged with the process key) and the sessions js-debug nests under it.
   */
  sessionsOf(key: string): vscode.DebugSession[] {
    const root = this.followed;
    if (!root) return [];
    const pid = key.split('/')[0];
    const tagged = [...this.#all.values()].filter((s) => {
      if (s.id === root.id || this.rootOf(s).id !== root.id) return false;
      const tag = s.configuration.__forkscope as ChildTag | undefined;
      return tag ? tag.key === key || (!key.includes('/') && String(tag.pid) === pid) : new RegExp(`\\bpid ${pid}\\b`).test(s.name);
    });
    const result = [...tagged];
    for (const s of this.#all.values()) if (!result.includes(s) && s.parentSession && result.includes(s.parentSession)) result.push(s);
    return result;
  }

  /** Every child session of the followed program. */
  childSessions(): vscode.DebugSession[] {
    const root = this.followed;
    if (!root) return [];
    return [...this.#all.values()].filter((s) => s.id !== root.id && this.rootOf(s).id === root.id);
  }

  #follow(id: string): void {
    if (this.#followed === id) return;
    this.#followed = id;
    this.#changed.fire();
  }

  dispose(): void {
    for (const d of this.#disposables) d.dispose();
  }
}
