// The `forkserver` start method. Node cannot fork(), so the warm "server" is a standby child that has
// already loaded Node, the loader, the runtime and the program's main module, and waits for its start
// payload: start() → run() costs one message. Parent side only; Node's modules only.
import { fork, type ChildProcess } from 'node:child_process';
import { CHILD_STDIO, DATA_FD, childEntryPath, wrapChildProcess, type ChildHandle, type StartPayload } from './popen';

interface Standby {
  child: ChildProcess;
  execArgv: string[];
}

const standbys: Standby[] = [];
/** How many warm children wait at most; each start takes one and a new one warms behind it. */
let target = 1;
let refill: NodeJS.Immediate | undefined;
let exitHookInstalled = false;

function warm(main: string | undefined): Standby {
  const child = fork(childEntryPath(), [], {
    execArgv: process.execArgv,
    serialization: 'advanced',
    stdio: CHILD_STDIO,
  });
  // A warm standby never keeps the program alive.
  child.unref();
  (child.channel as { unref?: () => void } | undefined)?.unref?.();
  (child.stdio[DATA_FD] as { unref?: () => void } | null)?.unref?.();
  child.on('error', () => {});
  const standby = { child, execArgv: process.execArgv };
  child.once('exit', () => {
    const i = standbys.indexOf(standby);
    if (i >= 0) standbys.splice(i, 1);
  });
  child.send({ t: 'standby', main });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', stopForkserver);
  }
  return standby;
}

/** Starts warming standbys now, so the first start() is already fast. */
export function ensureForkserver(main: string | undefined, count = 1): void {
  target = Math.max(target, count);
  while (standbys.length < target) standbys.push(warm(main));
}

/** Hands the payload to a warm standby (or a cold one when none is ready) and warms the next. */
export function startFromForkserver(payload: StartPayload): ChildHandle {
  let standby = standbys.shift();
  while (standby && (standby.child.exitCode !== null || standby.child.signalCode !== null || !standby.child.connected)) standby = standbys.shift();
  standby ??= warm(payload.main);
  const { child } = standby;
  child.ref();
  (child.channel as { ref?: () => void } | undefined)?.ref?.();
  const handle = wrapChildProcess(child);
  child.send(payload as never);
  refill ??= setImmediate(() => {
    refill = undefined;
    ensureForkserver(payload.main);
  });
  refill.unref();
  return handle;
}

/** Ends every standby (at exit, and for tests). */
export function stopForkserver(): void {
  for (const s of standbys.splice(0)) {
    try {
      s.child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
