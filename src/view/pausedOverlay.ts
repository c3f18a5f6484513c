// A paused process cannot report itself (its JavaScript is stopped), so the host marks the processes whose
// debug sessions stopped as `paused` on top of the hub's snapshot. Pure: no vscode, no Node.
import type { ProgramSnapshot } from '../../hub/snapshot';

/** The snapshot with every live process in `paused` shown as paused; the same object when nothing changes. */
export function withPausedProcesses(snapshot: ProgramSnapshot, paused: ReadonlySet<string>): ProgramSnapshot {
  if (paused.size === 0 || !snapshot.processes.some((p) => paused.has(p.key) && p.state !== 'exited' && p.state !== 'paused')) return snapshot;
  return { ...snapshot, processes: snapshot.processes.map((p) => (paused.has(p.key) && p.state !== 'exited' ? { ...p, state: 'paused' } : p)) };
}
