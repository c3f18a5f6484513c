// Talks to a waiting child's inspector without attaching a debugger: waits until the child is really parked in
// waitForDebugger() (so an attach cannot race its hello), and releases it with Runtime.runIfWaitingForDebugger.
// Over the CDP connection of cdpConnection.ts.
import { readFile } from 'node:fs/promises';
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

/** At most this many lines of the program's compiled form get an entry candidate (see armEntryBreakpoint). */
const MAX_ENTRY_LINES = 2_000;

/**
 * The lines of the program as V8 will see it, over-counted: a loader's output (esbuild's, Node's transform mode) may
 * spread the source over more lines than it has. Just the first line when the file cannot be read.
 */
async function entryLines(program: string): Promise<number> {
  const text = await readFile(program, 'utf8').catch(() => '');
  let lines = 1;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines++;
  return text ? Math.min(MAX_ENTRY_LINES, lines * 2 + 50) : 1;
}

/**
 * `stopOnEntry`: a session of our own on the main process's inspector, opened before js-debug attaches, that pauses
 * the program on its first statement once. V8 tells every debugger session of the isolate about a pause, so js-debug
 * shows the main process stopped there; ours removes its breakpoints, and leaves once the program resumes.
 *
 * Where the first statement is cannot be known before V8 compiles the program (a loader may rewrite it), and once it
 * is compiled a CommonJS program runs at once. So the breakpoints are set by URL before it loads: V8 moves one asked
 * for at a line to the first place it can stop at or after it in source order, which is inside a function when one is
 * declared there (a hoisted declaration is not a place to stop; an ES module's imports are not either). One on line 1
 * alone then lands in the first function's body, and a program that starts with declarations runs past its top
 * unseen. One on every line has one that lands on the first statement: nothing runs before it, so it is the first hit.
 *
 * js-debug puts a module-entry breakpoint of its own on the program's first line when the file has breakpoints, and
 * resumes a pause that hit it unless a breakpoint it counts as the user's was hit too: ours is not one. A breakpoint it
 * does not know is, alone, a pause it shows. So where line 1's breakpoint (the spot js-debug's lands on too) is the
 * first statement, ours also sets a one-shot breakpoint just after it, on the next statement of the program's top
 * level, as soon as the script is compiled (before it runs, so before any resume can beat it); it catches the program
 * when a debugger resumes the entry pause, and is let go once the pause has lasted longer than a debugger's resume takes.
 */
export async function armEntryBreakpoint(url: string, program: string, timeoutMs = 5_000): Promise<void> {
  const lines = await entryLines(program);
  const cdp = await CdpConnection.open(url, timeoutMs);
  const close = () => void cdp.leave();
  try {
    // Node keeps a finished program alive while a session is connected, unless that session asked to be told.
    await cdp.call('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true });
    cdp.once('NodeRuntime.waitingForDisconnect', close);
    await cdp.call('Debugger.enable');
    const remove = (id: string) => void cdp.call('Debugger.removeBreakpoint', { breakpointId: id }).catch(() => {});

    // Wanted until the entry pause turns out to be one no debugger resumes by itself, or has outlasted such a resume.
    let nextWanted = true;
    let nextId: string | undefined;
    // The spot the next statement's breakpoint follows, and whether V8 has answered for it (with a place, or none);
    // `onNextKnown` waits for that answer.
    let nextAfter: Location | undefined;
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
      nextId = undefined;
    };
    const armNext = (entry: Location) => {
      nextAfter = entry;
      nextKnown = false;
      // V8 moves a breakpoint to the first place it can stop at or after the given one.
      const after = { ...entry, columnNumber: (entry.columnNumber ?? 0) + 1 };
      // Read as the answer arrives: it precedes the pause and a resume on this socket when V8 took it first, and the
      // three can come in one read, before a promise would settle.
      const onAnswer = (reply: unknown) => {
        const { breakpointId, actualLocation } = reply as { breakpointId: string; actualLocation: Location };
        // An answer for a spot given up since (the entry pause was elsewhere) is not the one waited for.
        if (nextAfter !== entry) return remove(breakpointId);
        if (!nextWanted || sameLocation(actualLocation, entry)) remove(breakpointId);
        else nextId = breakpointId;
        knowNext();
      };
      cdp.call('Debugger.setBreakpoint', { location: after }, onAnswer).catch(() => nextAfter === entry && knowNext());
    };

    // CommonJS scripts are named by path or file URL, ES modules by file URL (a loader may add a query).
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const urlRegex = `^(${escape(pathToFileURL(program).href)}|${escape(program)})(\\?.*)?$`;
    // Sent together, answered in order: the wait is one round trip and V8's own work, not one round trip a line.
    const candidates = (await Promise.all(
      Array.from({ length: lines }, (_, lineNumber) => cdp.call('Debugger.setBreakpointByUrl', { urlRegex, lineNumber, columnNumber: 0 })),
    )) as Array<{ breakpointId: string; locations: Location[] }>;
    const entryIds = new Set(candidates.map((c) => c.breakpointId));
    const firstLine = candidates[0]!;
    const onResolved = (params: unknown) => {
      const { breakpointId, location } = params as { breakpointId: string; location: Location };
      if (breakpointId === firstLine.breakpointId) armNext(location);
      else cdp.once('Debugger.breakpointResolved', onResolved);
    };
    if (firstLine.locations[0]) armNext(firstLine.locations[0]);
    else cdp.once('Debugger.breakpointResolved', onResolved);

    // Other pauses come first under js-debug (its instrumentation breakpoint before each script with a source
    // map): they are not ours, and removing our breakpoints on them let the program run past its first line.
    const onPaused = (params: unknown) => {
      if (!hitBreakpoints(params).some((id) => entryIds.has(id))) return cdp.once('Debugger.paused', onPaused);
      // The candidates stay until the pause is kept: a debugger's resume read before the next statement's breakpoint
      // would let the program run past it, and the candidates on the lines after it still catch the program.
      const letGo = () => {
        dropNext();
        for (const id of entryIds) remove(id);
        entryIds.clear();
      };
      // The first statement is not where line 1's breakpoint went (js-debug's entry breakpoint is not here either):
      // the next statement is found now, in time for a person's quick Continue.
      const at = topFrameLocation(params);
      if (at && !(nextAfter && sameLocation(nextAfter, at))) {
        if (nextId) remove(nextId);
        nextId = undefined;
        armNext(at);
      }
      // V8 names only this session's breakpoints in a pause, so whether js-debug's entry breakpoint was hit too cannot
      // be seen here: a resume within AUTO_RESUME_MS is taken as its. A person's Continue that fast stops once more, on
      // the next statement.
      const pausedAt = Date.now();
      const keptTimer = setTimeout(letGo, AUTO_RESUME_MS);
      cdp.once('Debugger.resumed', () => {
        clearTimeout(keptTimer);
        if (Date.now() - pausedAt > AUTO_RESUME_MS) {
          letGo();
          return close();
        }
        // A debugger resumed the entry pause before V8 answered for the next statement's breakpoint (it processes that
        // request at the program's first interrupt, still in time for its next statement): wait for the answer. Not
        // waiting meant a Debugger.pause instead, which lands inside the first statement's own work (Node's source-map
        // cache, as it loads an import) rather than at the program's top.
        const proceed = () => {
          const armed = nextWanted ? nextId : undefined;
          nextWanted = false;
          // Caught by the armed one, or else by the next entry candidate the program reaches.
          const onRepaused = (again: unknown) => {
            if (!hitBreakpoints(again).some((id) => id === armed || entryIds.has(id))) return cdp.once('Debugger.paused', onRepaused);
            if (armed) remove(armed);
            letGo();
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

const topFrameLocation = (paused: unknown): Location | undefined =>
  (paused as { callFrames?: Array<{ location: Location }> } | undefined)?.callFrames?.[0]?.location;
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
