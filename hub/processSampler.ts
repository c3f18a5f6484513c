// Samples CPU and memory of the program's processes and finds descendants that do not report
// (not Node: a shell, Python, a native tool) from the OS process list (ps-list). No vscode imports.
import { totalmem } from 'node:os';
import type { ProgramModel } from './programModel';

export interface ProcessSample {
  pid: number;
  ppid: number;
  name: string;
  /** Percent of one core. */
  cpu: number;
  /** Resident memory in bytes (ps-list gives a percent of the machine's memory). */
  memory: number;
}

type PsList = (options?: { all?: boolean }) => Promise<Array<{ pid: number; ppid: number; name: string; cpu?: number; memory?: number }>>;
let psList: PsList | undefined;

/** Every descendant of `roots` (and the roots themselves) in the OS process list. */
export async function sampleTree(roots: readonly number[]): Promise<ProcessSample[]> {
  psList ??= ((await import('ps-list')) as { default: PsList }).default;
  const all = await psList({ all: true });
  const children = new Map<number, typeof all>();
  for (const p of all) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const out: ProcessSample[] = [];
  const seen = new Set<number>();
  const stack = [...roots];
  const bytes = totalmem() / 100;
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const p = byPid.get(pid);
    if (!p) continue;
    out.push({ pid: p.pid, ppid: p.ppid, name: p.name, cpu: p.cpu ?? 0, memory: Math.round((p.memory ?? 0) * bytes) });
    for (const c of children.get(pid) ?? []) stack.push(c.pid);
  }
  return out;
}

/** Feeds the model a sample every `intervalMs` until stopped; a failing `ps` only skips a round. */
export class ProcessSampler {
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(
    readonly model: ProgramModel,
    readonly intervalMs = 2_000,
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sampleOnce(), this.intervalMs);
    this.#timer.unref();
  }

  async sampleOnce(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const roots = this.model.livePids();
      if (roots.length === 0) return;
      const samples = await sampleTree(roots);
      for (const sample of samples) this.model.sampled(sample);
      this.model.sampledRound(samples.map((sample) => sample.pid));
    } catch {
      // ps missing or failing: CPU/memory stay unknown, nothing else depends on them.
    } finally {
      this.#running = false;
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
