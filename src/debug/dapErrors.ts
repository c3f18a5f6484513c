// Every error the `forkscope` debug adapter answers a DAP request with: one stable code and one message each, so a
// client (the extension, a test) can tell them apart by code and a new error gets the next number here. Pure data.

export const DAP_ERRORS = {
  untrusted: { code: 4001, message: (doing: 'launch programs' | 'attach') => `Forkscope does not ${doing} in an untrusted workspace.` },
  invalidLaunch: { code: 4002, message: (reason: string) => reason },
  launchFailed: { code: 4003, message: (program: string, reason: string) => `Could not start ${program}: ${reason}` },
  noSuchProcess: { code: 4004, message: (key: string) => `No process ${key} with an inspector.` },
  attachFailed: { code: 4005, message: (session: string) => `Could not attach to ${session}.` },
  attachNeedsAddress: {
    code: 4006,
    message: () => 'The attach configuration needs the "address" and "token" that `forkscope run --inspect` printed.',
  },
  hubUnreachable: { code: 4007, message: (address: string, reason: string) => `Could not join the forkscope hub at ${address}: ${reason}` },
  traceNeedsPath: { code: 4008, message: () => 'forkscope/exportTrace needs a "path".' },
  noTrace: { code: 4009, message: () => 'This session records no trace (an attached program: use `forkscope run --trace`).' },
  traceWriteFailed: { code: 4010, message: (path: string, reason: string) => `Could not write the trace to ${path}: ${reason}` },
} as const;

export type DapErrorKind = keyof typeof DAP_ERRORS;

/** The code and text of one error of the table, its message filled in. */
export function dapError<K extends DapErrorKind>(kind: K, ...args: Parameters<(typeof DAP_ERRORS)[K]['message']>): { code: number; message: string } {
  const entry = DAP_ERRORS[kind];
  return { code: entry.code, message: (entry.message as (...a: unknown[]) => string)(...args) };
}
