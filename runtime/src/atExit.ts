// One 'exit' listener for all of the runtime's last-moment work (removing shared-memory files and socket folders,
// ending daemonic children, the last telemetry flush...). Node warns past 10 listeners of one event
// (MaxListenersExceededWarning), and the runtime's own hooks reached that in a program with a Queue and a Process
// under a hub: the warning blamed the user's program for listeners it never added.

type ExitHook = (code: number) => void;

const hooks: ExitHook[] = [];
let listening = false;

/** Runs `hook` when this process (in a worker thread: this thread) exits; hooks run in the order they were added. */
export function atExit(hook: ExitHook): void {
  hooks.push(hook);
  if (listening) return;
  listening = true;
  process.on('exit', (code) => {
    let failure: { error: unknown } | undefined;
    for (const run of hooks) {
      try {
        run(code);
      } catch (error) {
        // Every hook still runs; the first failure surfaces as it would have from its own listener.
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  });
}
