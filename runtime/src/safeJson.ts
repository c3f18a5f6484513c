// The one prototype-safe JSON parser, for JSON from a peer that is not trusted yet: data only, bounded nesting, no
// key that could reach a prototype. Read by the hub's control channel (hub/hubServer.ts) and the manager's
// handshake (managers/wire.ts). Pure: no Node or vscode imports.

/** Nesting deeper than this is refused before JSON.parse sees it. */
export const MAX_JSON_DEPTH = 32;

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Parses untrusted JSON; throws a SyntaxError saying what is wrong: not JSON, too deep, or a prototype key. */
export function parseData(text: string): unknown {
  if (!withinDepth(text, MAX_JSON_DEPTH)) throw new SyntaxError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  const value: unknown = JSON.parse(text);
  // The parsed keys are checked, never the raw text: `"\u005f_proto__"` is `__proto__` once parsed.
  const key = forbiddenKey(value);
  if (key !== undefined) throw new SyntaxError(`forbidden key ${JSON.stringify(key)}`);
  return value;
}

/** parseData(), with `undefined` for anything invalid, too deep, or naming a prototype key. */
export function parseSafeJson(text: string): unknown {
  try {
    return parseData(text);
  } catch {
    return undefined;
  }
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

function forbiddenKey(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const key = forbiddenKey(item);
      if (key !== undefined) return key;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN.has(key)) return key;
    const inner = forbiddenKey((value as Record<string, unknown>)[key]);
    if (inner !== undefined) return inner;
  }
  return undefined;
}
