// A program for the defect this port found first: `await p.join()` of a daemon child must keep the program
// alive until the child ends (DESIGN.md: pending waits keep a program alive), then print "joined".
import { Process, isMainProcess } from 'forkscope';

/** The child's work: a short pause. */
export async function pause(): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
}

if (isMainProcess()) {
  const p = new Process({ target: pause, daemon: true });
  p.start();
  void p.join().then(() => console.log(`joined ${p.exitCode}`));
}
