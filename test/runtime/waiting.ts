// Waiting helpers for the runtime tests, which watch real processes: is a pid still there, and poll a check
// until it holds or a deadline passes. Node's modules only.

/** The pid exists (a zombie not yet reaped by its parent counts: signal 0 reaches it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every 50 ms; true as soon as it holds, else its last answer once `deadlineMs` passed. */
export async function waitUntil(check: () => boolean, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}
