// Defensive JSON for the control channel: data only, bounded nesting, no prototype-touching keys.
// Pure: no Node or vscode imports.

/** Nesting deeper than this is refused before JSON.parse sees it. */
export const MAX_JSON_DEPTH = 32;

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Parses untrusted JSON; returns `undefined` for anything invalid, too deep, or naming a prototype key. */
export function parseSafeJson(text: string): unknown {
  if (!withinDepth(text, MAX_JSON_DEPTH)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  // The parsed keys are checked, never the raw text: `"\u005f_proto__"` is `__proto__` once parsed.
  return hasForbiddenKey(value) ? undefined : value;
}

function withinDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return false;
    } else if (c === 125 || c === 93) depth--;
  }
  return true;
}

function hasForbiddenKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasForbiddenKey);
  for (const key of Object.keys(value)) {
    if (FORBIDDEN.has(key)) return true;
    if (hasForbiddenKey((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}
