// The `forkserver` start method. Node cannot fork(), so the warm "server" is a set of standby children
// that have already loaded Node, the loader, the runtime and the program's main module, and wait for a
// start payload: start() → run() costs one message. As many as recent demand asks for (warmSpares.ts).
// Parent side only; Node's modules only.
import { fork, type ChildProcess } from 'node:child_process';
import { CHILD_STDIO, DATA_FD, SPARE_READY, childEntryPath, childExecutable, wrapChildProcess, type ChildHandle, type StartPayload } from './popen';
import { WarmSpares } from './warmSpares';
import { availableParallelism } from 'node:os';
import { atExit } from './atExit';

let main: string | undefined;
let preload: string[] = [];

/** Modules each standby loads before the program's main module. Python: set_forkserver_preload() */
export function setForkserverPreload(moduleNames: string[]): void {
  preload = [...moduleNames];
}
let exitHookInstalled = false;

function warm(): ChildProcess {
  const child = fork(childEntryPath(), [], {
    execPath: childExecutable(),
    execArgv: process.execArgv,
    serialization: 'advanced',
    stdio: CHILD_STDIO,
  });
  // A warm standby never keeps the program alive.
  child.unref();
  (child.channel as { unref?: () => void } | undefined)?.unref?.();
  (child.stdio[DATA_FD] as { unref?: () => void } | null)?.unref?.();
  child.on('error', () => {});
  child.once('exit', () => standbys.forget(child));
  const onReady = (m: unknown): void => {
    if ((m as { t?: unknown } | null)?.t !== SPARE_READY) return;
    child.off('message', onReady);
    readyStandbys.add(child);
    standbys.readied();
  };
  child.on('message', onReady);
  child.send({ t: 'standby', main, preload });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    atExit(stopForkserver);
  }
  return child;
}

const readyStandbys = new WeakSet<ChildProcess>();
const standbys = new WarmSpares<ChildProcess>({
  warm,
  usable: (child) => child.exitCode === null && child.signalCode === null && child.connected,
  ready: (child) => readyStandbys.has(child),
  maxBooting: 2 * availableParallelism(),
  countsSequential: true,
  discard(child) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  },
});

/** Starts warming `count` standbys now, so the first start() is already fast. */
export function ensureForkserver(mainModule: string | undefined, count = 1): void {
  main = mainModule;
  standbys.ensure(count);
}

/** Hands the payload to a warm standby (or a cold one when none is ready); demand decides how many warm behind it. */
export function startFromForkserver(payload: StartPayload): ChildHandle {
  main = payload.main;
  const child = standbys.take() ?? warm();
  child.ref();
  (child.channel as { ref?: () => void } | undefined)?.ref?.();
  const handle = wrapChildProcess(child);
  child.send(payload as never);
  return handle;
}

/** Ends every standby (at exit, and for tests). */
export function stopForkserver(): void {
  standbys.stop();
}
