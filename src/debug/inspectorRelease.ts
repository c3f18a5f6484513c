// Talks to a waiting child's inspector without attaching a debugger: waits until the child is really parked in
// waitForDebugger() (so an attach cannot race its hello), and releases it with Runtime.runIfWaitingForDebugger.
// Over the CDP connection of cdpConnection.ts.
import { pathToFileURL } from 'node:url';
import { CdpConnection } from './cdpConnection';
import { DEBUG_HANDSHAKE } from '../../runtime/src/protocol';

const { waitingFlag: WAITING_FLAG, dismissWatchdog: DISMISS_WATCHDOG } = DEBUG_HANDSHAKE;

/** Sends `Runtime.runIfWaitingForDebugger` once the process at `url` waits, then disconnects. */
export async function releaseInspector(url: string, timeoutMs = 5_000): Promise<void> {
  const cdp = await CdpConnection.open(url, timeoutMs);
  try {
    await waitUntilParked(cdp, timeoutMs);
    await cdp.call('Runtime.runIfWaitingForDebugger');
  } finally {
    cdp.close();
  }
}

/**
 * Resolves once the process at `url` is parked in waitForDebugger(). A debugger's single
 * runIfWaitingForDebugger sent before then would be lost and the child left waiting. Ends the process's watchdog:
 * the caller now owns its release (a debugger's, or releaseIfStillParked when that debugger never ran it).
 */
export async function waitUntilWaiting(url: string, timeoutMs = 5_000): Promise<void> {
  const cdp = await CdpConnection.open(url, timeoutMs);
  try {
    await waitUntilParked(cdp, timeoutMs);
  } finally {
    cdp.close();
  }
}

/**
 * The caller's promise after waitUntilWaiting: a process whose debugger never ran it (the session was stopped while
 * it attached) is released. True when it was still parked; false when it runs or is gone.
 */
export async function releaseIfStillParked(url: string, timeoutMs = 5_000): Promise<boolean> {
  let cdp: CdpConnection;
  try {
    cdp = await CdpConnection.open(url, timeoutMs);
  } catch {
    return false;
  }
  try {
    if (!(await isParked(cdp))) return false;
    await cdp.call('Runtime.runIfWaitingForDebugger');
    return true;
  } finally {
    cdp.close();
  }
}

/**
 * A resume this soon after the entry pause came from a debugger, not a person: js-debug resumes a pause at its own
 * module-entry breakpoint within milliseconds (tens under load), a person reads the editor first.
 */
const AUTO_RESUME_MS = 1_000;

interface Location {
  scriptId: string;
  lineNumber: number;
  columnNumber?: number;
}

/**
 * `stopOnEntry`: a session of our own on the main process's inspector, opened before js-debug attaches, that pauses
 * the program on the first line of `program` once. V8 tells every debugger session of the isolate about a pause, so
 * js-debug shows the main process stopped there; ours removes its breakpoints, and leaves once the program resumes.
 *
 * js-debug puts a module-entry breakpoint of its own at this very spot when the file has breakpoints, and resumes a
 * pause that hit it unless a breakpoint it counts as the user's was hit too: ours is not one. A breakpoint it does not
 * know is, alone, a pause it shows. So ours also sets a second one-shot breakpoint just after the entry, on the next
 * statement of the program's top level, as soon as the script is compiled (before it runs, so before any resume can
 * beat it); it catches the program when a debugger resumes the entry pause, and is let go once the pause has lasted
 * longer than a debugger's resume takes.
 */
export async function armEntryBreakpoint(url: string, program: string, timeoutMs = 5_000): Promise<void> {
  const cdp = await CdpConnection.open(url, timeoutMs);
  const close = () => cdp.close();
  try {
    // Node keeps a finished program alive while a session is connected, unless that session asked to be told.
    await cdp.call('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true });
    cdp.once('NodeRuntime.waitingForDisconnect', close);
    await cdp.call('Debugger.enable');
    const remove = (id: string) => void cdp.call('Debugger.removeBreakpoint', { breakpointId: id }).catch(() => {});

    // Wanted until the entry pause turns out to be one no debugger resumes by itself, or has outlasted such a resume.
    let nextWanted = true;
    let nextId: string | undefined;
    // Whether V8 has answered the request for it (with a place, or none); `onNextKnown` waits for that answer.
    let nextKnown = false;
    let onNextKnown: (() => void) | undefined;
    const knowNext = () => {
      nextKnown = true;
      onNextKnown?.();
      onNextKnown = undefined;
    };
    const dropNext = () => {
      nextWanted = false;
      if (nextId) remove(nextId);
    };
    const armNext = (entry: Location) => {
      // V8 moves a breakpoint to the first place it can stop at or after the given one, in the function there.
      const after = { ...entry, columnNumber: (entry.columnNumber ?? 0) + 1 };
      // Read as the answer arrives: it precedes the pause and a resume on this socket when V8 took it first, and the
      // three can come in one read, before a promise would settle.
      const onAnswer = (reply: unknown) => {
        const { breakpointId, actualLocation } = reply as { breakpointId: string; actualLocation: Location };
        if (!nextWanted || sameLocation(actualLocation, entry)) remove(breakpointId);
        else nextId = breakpointId;
        knowNext();
      };
      cdp.call('Debugger.setBreakpoint', { location: after }, onAnswer).catch(knowNext);
    };

    // CommonJS scripts are named by path or file URL, ES modules by file URL (a loader may add a query).
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const urlRegex = `^(${escape(pathToFileURL(program).href)}|${escape(program)})(\\?.*)?$`;
    const entry = (await cdp.call('Debugger.setBreakpointByUrl', { urlRegex, lineNumber: 0, columnNumber: 0 })) as {
      breakpointId: string;
      locations: Location[];
    };
    const onResolved = (params: unknown) => {
      const { breakpointId, location } = params as { breakpointId: string; location: Location };
      if (breakpointId === entry.breakpointId) armNext(location);
      else cdp.once('Debugger.breakpointResolved', onResolved);
    };
    if (entry.locations[0]) armNext(entry.locations[0]);
    else cdp.once('Debugger.breakpointResolved', onResolved);

    // Other pauses come first under js-debug (its instrumentation breakpoint before each script with a source
    // map): they are not ours, and removing our breakpoint on them let the program run past its first line.
    const onPaused = (params: unknown) => {
      if (!hitBreakpoints(params).includes(entry.breakpointId)) return cdp.once('Debugger.paused', onPaused);
      remove(entry.breakpointId);
      // V8 names only this session's breakpoints in a pause, so whether js-debug's entry breakpoint was hit too cannot
      // be seen here: a resume within AUTO_RESUME_MS is taken as its. A person's Continue that fast stops once more, on
      // the next statement.
      const pausedAt = Date.now();
      const keptTimer = setTimeout(dropNext, AUTO_RESUME_MS);
      cdp.once('Debugger.resumed', () => {
        clearTimeout(keptTimer);
        if (Date.now() - pausedAt > AUTO_RESUME_MS) {
          if (nextWanted) dropNext();
          return close();
        }
        // A debugger resumed the entry pause before V8 answered for the next statement's breakpoint (it processes that
        // request at the program's first interrupt, still in time for its next statement): wait for the answer. Not
        // waiting meant a Debugger.pause instead, which lands inside the first statement's own work (Node's source-map
        // cache, as it loads an import) rather than at the program's top.
        const proceed = () => {
          const armed = nextWanted ? nextId : undefined;
          nextWanted = false;
          const onRepaused = (again: unknown) => {
            if (armed && !hitBreakpoints(again).includes(armed)) return cdp.once('Debugger.paused', onRepaused);
            if (armed) remove(armed);
            cdp.once('Debugger.resumed', close);
          };
          cdp.once('Debugger.paused', onRepaused);
          // No next statement to catch it (a one-statement program): pause wherever V8 goes next, which may be a
          // loader's code rather than the program's.
          if (!armed) void cdp.call('Debugger.pause').catch(close);
        };
        if (nextKnown) proceed();
        else onNextKnown = proceed;
      });
    };
    cdp.once('Debugger.paused', onPaused);
  } catch (error) {
    close();
    throw error;
  }
}

const hitBreakpoints = (paused: unknown): string[] => (paused as { hitBreakpoints?: string[] } | undefined)?.hitBreakpoints ?? [];
const sameLocation = (a: Location, b: Location) =>
  a.scriptId === b.scriptId && a.lineNumber === b.lineNumber && (a.columnNumber ?? 0) === (b.columnNumber ?? 0);

async function waitUntilParked(cdp: CdpConnection, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await isParked(cdp)) return;
    if (Date.now() > deadline) throw new Error(`the process did not start waiting for its debugger within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// Parked: from here the adapter attaches or releases the process, so its watchdog thread goes (see DISMISS_WATCHDOG;
// a second dismissal does nothing).
const PARKED_EXPRESSION = `(() => {
  if (globalThis[Symbol.for(${JSON.stringify(WAITING_FLAG)})] !== true) return false;
  globalThis[Symbol.for(${JSON.stringify(DISMISS_WATCHDOG)})]?.();
  return true;
})()`;

/** True while the process is parked in waitForDebugger(). */
async function isParked(cdp: CdpConnection): Promise<boolean> {
  const reply = (await cdp.call('Runtime.evaluate', { expression: PARKED_EXPRESSION, returnByValue: true })) as { result?: { value?: unknown } };
  return reply.result?.value === true;
}
