// The source locations a program reported in its snapshot: the only places the view may ask the host to open.
// Pure: no vscode, no Node.
import type { SourceLocation } from '../../runtime/src/protocol';
import type { ProgramSnapshot } from '../../hub/snapshot';

export function reportedSites(snapshot: ProgramSnapshot | null): SourceLocation[] {
  if (!snapshot) return [];
  const sites: Array<SourceLocation | undefined> = [];
  for (const p of snapshot.processes) sites.push(p.waitSite);
  for (const q of snapshot.queues) sites.push(q.site);
  for (const s of snapshot.syncs) sites.push(s.site, s.acquiredAt, ...s.waiters.map((w) => w.site));
  for (const d of snapshot.deadlocks) sites.push(...d.cycle.map((c) => c.site));
  return sites.filter((s): s is SourceLocation => s !== undefined);
}

/** The reported location the view named, or undefined when the program never reported it. */
export function findReportedSite(snapshot: ProgramSnapshot | null, asked: SourceLocation): SourceLocation | undefined {
  return reportedSites(snapshot).find((s) => s.file === asked.file && s.line === asked.line && s.column === asked.column);
}
