// Opens a loopback inspector in a child and waits for the debugger, when the session asks for debugging.
//
// CONTRACT between the child bootstrap (issue 3) and the debugger work (issue 6), which owns this file:
// the child bootstrap calls openInspectorIfDebugging() before saying hello, puts the URL in the hello,
// then calls waitForDebuggerIfOpened() before running any user code.

/** Opens an inspector on 127.0.0.1 with a random port when FORKSCOPE_DEBUG=1; returns its ws:// URL. */
export function openInspectorIfDebugging(): string | undefined {
  return undefined;
}

/** Blocks until a debugger attaches (or the session releases this process), if an inspector was opened. */
export function waitForDebuggerIfOpened(): void {}
