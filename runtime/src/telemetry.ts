// Reports what the runtime's objects do to the hub over the control channel, when one is set.
// With no FORKSCOPE_HUB every function here is a cheap no-op. Node's own modules only.
//
// CONTRACT for the rest of the runtime (owned by the observability work, issue 5): the names and
// signatures below are what process, pool, queue, pipe and lock code call. The bodies are filled
// in by that issue; until then they do nothing.
import type { Hello, ObjectKind, RuntimeEvent, SourceLocation } from './protocol';

/** True when this process reports to a hub (FORKSCOPE_HUB and FORKSCOPE_TOKEN are set). */
export function isReporting(): boolean {
  return false;
}

/** Says hello once per process or worker; resolves when the hub has the hello (at once with no hub). */
export async function connect(_identity: Pick<Hello, 'name' | 'startMethod' | 'role'> & Partial<Pick<Hello, 'parent' | 'inspectorUrl' | 'entry'>>): Promise<void> {}

/** Queues an event for the next flush (a few times a second). */
export function emit(_event: RuntimeEvent): void {}

/** Sends an event at once: waits, state changes, lock operations, process start/exit. */
export function emitNow(_event: RuntimeEvent): void {}

let nextObject = 0;
/** A program-wide unique id for a new object; also reports the object when reporting. */
export function objectCreated(kind: ObjectKind, options: { label?: string; capacity?: number; site?: SourceLocation } = {}): string {
  void options;
  return `${kind}-${process.pid}-${nextObject++}`;
}

/** Where user code called into the runtime: the first stack frame outside forkscope. */
export function callSite(): SourceLocation | undefined {
  return undefined;
}

/** Flushes what is batched; called before a process exits. */
export async function flush(): Promise<void> {}
