// One reading of "how long may this wait" for every call that can block (DESIGN.md, API details):
// `{ timeout }` in an options object, a bare number too where Python's first parameter is the timeout.
// Node's modules only; no runtime state.

/** Options of a call that waits at most `timeout` milliseconds. */
export interface TimeoutOptions {
  /** Longest wait in ms; undefined, null or Infinity waits for ever; negative means "do not wait". */
  timeout?: number | null;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  return typeof value;
}

/** Checks one timeout value: a number of ms (NaN refused), or undefined/null for "no limit". */
export function checkTimeout(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${where}: timeout must be a number of milliseconds (or undefined for no limit), got ${describe(value)}`);
  }
  if (value === Infinity) return undefined;
  // Python: a negative timeout is the same as 0, "do not wait".
  return value < 0 ? 0 : value;
}

/**
 * Reads the timeout of a waiting call: `{ timeout }`, or (when `bareNumber`) a plain number.
 * Returns undefined for "wait for ever", else a number of ms ≥ 0. Throws TypeError for anything else.
 */
export function readTimeout(arg: unknown, where: string, bareNumber = false): number | undefined {
  if (arg === undefined || arg === null) return undefined;
  if (typeof arg === 'number') {
    if (!bareNumber) throw new TypeError(`${where}: pass the timeout as { timeout: ${arg} }`);
    return checkTimeout(arg, where);
  }
  if (typeof arg !== 'object') throw new TypeError(`${where}: expected an options object such as { timeout: 100 }, got ${describe(arg)}`);
  return checkTimeout((arg as TimeoutOptions).timeout, where);
}

/** A deadline in `Date.now()` terms for a timeout read by `readTimeout` (undefined: none). */
export function deadlineOf(timeout: number | undefined): number | undefined {
  return timeout === undefined ? undefined : Date.now() + timeout;
}
