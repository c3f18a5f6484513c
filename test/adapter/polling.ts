// Waiting helpers for the adapter tests, which watch real processes: poll until a probe answers, and ask
// the kernel whether a pid is really alive (a killed child stays a zombie until it is reaped).
import { readFileSync } from 'node:fs';

/** Polls `probe` every 50 ms until it returns a value; fails naming `what` after `ms`. */
export async function until<T>(what: string, probe: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
