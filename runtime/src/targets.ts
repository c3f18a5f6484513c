// Finds a function's module and export name, the way pickle finds a function by module and qualified
// name, so a child can import it. Parent side uses an in-thread inspector session (synchronous in Node
// 20); the child side imports and looks up. Node's modules only; nothing here runs user code.
import { Session } from 'node:inspector';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAbsolute } from 'node:path';
import { TargetNotExportedError } from './errors';
import { importModule } from './loader/importModule';

/** Where a target lives: a module (file path or URL) and the name it is exported under. */
export interface TargetRef {
  /** Absolute file path (or a URL for non-file modules). */
  module: string;
  /** The export name; `default` for a default export, `module.exports` when the module is the function. */
  name: string;
  /** The function's own name, for messages and the view. */
  label: string;
}

const cache = new WeakMap<Function, TargetRef>();
let session: Session | undefined;
const scriptUrls = new Map<string, string>();

function post<T>(method: string, params?: object): T {
  let result: T | undefined;
  let failure: Error | null = null;
  let done = false;
  session!.post(method, params ?? {}, (error, value) => {
    failure = error;
    result = value as T;
    done = true;
  });
  // The in-thread session dispatches synchronously (Node 20); anything else is a bug to report loudly.
  if (!done) throw new Error(`forkscope: inspector ${method} did not answer synchronously`);
  if (failure) throw failure;
  return result as T;
}

function ensureSession(): void {
  if (session) return;
  session = new Session();
  session.connect();
  session.on('Debugger.scriptParsed', (message) => {
    const { scriptId, url } = message.params as { scriptId: string; url: string };
    if (url) scriptUrls.set(scriptId, url);
  });
}

function scriptUrl(scriptId: string): string | undefined {
  if (!scriptUrls.has(scriptId)) {
    // Enabling the debugger replays every parsed script; disabling it at once keeps the program at full speed.
    post('Debugger.enable');
    post('Debugger.disable');
  }
  return scriptUrls.get(scriptId);
}

interface Inspected {
  scriptId?: string;
  scopeTypes: string[];
}

function inspect(fn: Function): Inspected {
  ensureSession();
  const key = '__forkscopeTarget';
  (globalThis as Record<string, unknown>)[key] = fn;
  try {
    const evaluated = post<{ result: { objectId?: string } }>('Runtime.evaluate', { expression: `globalThis.${key}` });
    const objectId = evaluated.result.objectId;
    if (!objectId) return { scopeTypes: [] };
    const props = post<{ internalProperties?: Array<{ name: string; value?: { value?: { scriptId: string }; objectId?: string } }> }>('Runtime.getProperties', {
      objectId,
      ownProperties: true,
    });
    let scriptId: string | undefined;
    const scopeTypes: string[] = [];
    for (const p of props.internalProperties ?? []) {
      if (p.name === '[[FunctionLocation]]') scriptId = p.value?.value?.scriptId;
      if (p.name === '[[Scopes]]' && p.value?.objectId) {
        const scopes = post<{ result: Array<{ name: string; value?: { description?: string } }> }>('Runtime.getProperties', {
          objectId: p.value.objectId,
          ownProperties: true,
        });
        for (const s of scopes.result) {
          if (/^\d+$/.test(s.name)) scopeTypes.push((s.value?.description ?? '').split(' ')[0]);
        }
      }
    }
    post('Runtime.releaseObjectGroup', { objectGroup: '' });
    return { scriptId, scopeTypes };
  } finally {
    delete (globalThis as Record<string, unknown>)[key];
  }
}

function describe(fn: Function): string {
  if (fn.name) return isClass(fn) ? `class ${fn.name}` : `function ${fn.name}`;
  return 'an anonymous function';
}

function isMethod(fn: Function): boolean {
  if (Object.hasOwn(fn, 'prototype') || !fn.name) return false;
  try {
    const text = Function.prototype.toString.call(fn);
    return /^(?:async\s+)?\*?\s*[\w$]+\s*\(/.test(text) && !/^(?:async\s+)?function\b/.test(text);
  } catch {
    return false;
  }
}

function isClass(fn: Function): boolean {
  try {
    return /^class[\s{]/.test(Function.prototype.toString.call(fn));
  } catch {
    return false;
  }
}

function toFile(url: string): string | undefined {
  if (url.startsWith('file:')) {
    try {
      return fileURLToPath(url.replace(/\?.*$/, ''));
    } catch {
      return undefined;
    }
  }
  return isAbsolute(url) ? url : undefined;
}

/** Finds where `fn` is exported; throws a PicklingError naming it and saying to export it when it is not. */
export function findTarget(fn: Function): TargetRef {
  const cached = cache.get(fn);
  if (cached) return cached;
  if (typeof fn !== 'function') throw new TypeError(`a target must be a function, got ${typeof fn}`);
  const label = fn.name || 'anonymous';
  // A CommonJS module that exports it settles the question without the inspector.
  const fromCjs = searchRequireCache(fn);
  if (fromCjs) {
    cache.set(fn, fromCjs);
    known.set(refKey(fromCjs), fn);
    return fromCjs;
  }
  const { scriptId, scopeTypes } = inspect(fn);
  const url = scriptId ? scriptUrl(scriptId) : undefined;
  const file = url ? toFile(url) : undefined;
  if (!url || !file) {
    throw new TargetNotExportedError(
      `${describe(fn)} cannot be found by module and name (a built-in, bound or eval'd function); export a plain function from a module and pass that`,
    );
  }
  if (isMethod(fn)) {
    throw new TargetNotExportedError(`${describe(fn)} is a class method, so a child cannot import it by name; export a top-level function that calls it`);
  }
  const cjsEntry = typeof require === 'function' ? require.cache[file] : undefined;
  // Node ≥ 22 leaves an empty CommonJS entry for a file it tried as CommonJS, then ran as an ES module (syntax
  // detection, a .ts file in a package without "type"): that file's exports are found by the ES module scan.
  const ranAsEsm = cjsEntry !== undefined && isEmptyExports(cjsEntry.exports) && scanEsmExports(file, fn) !== undefined;
  const isCommonJs = cjsEntry !== undefined && !ranAsEsm;
  if (isCommonJs) {
    // Loaders wrap CommonJS modules in one or more functions, so scopes cannot tell a closure here.
    throw new TargetNotExportedError(
      `${describe(fn)} is not exported from ${file} (or is nested inside another function); define it at the top level and export it (\`export function ${label}\`) so a child can import it`,
    );
  }
  if (scopeTypes.some((t) => t === 'Local' || t === 'Closure' || t === 'Block')) {
    throw new TargetNotExportedError(
      `${describe(fn)} is a closure or a nested function in ${file}, so a child cannot import it; move it to the top level of its module and export it`,
    );
  }
  const exportName = scanEsmExports(file, fn);
  if (!exportName) {
    throw new TargetNotExportedError(
      `${describe(fn)} is not exported from ${file}; export it (\`export ${isClass(fn) ? 'class' : 'function'} ${label}\`) so a child can import it`,
    );
  }
  const ref: TargetRef = { module: file, name: exportName, label };
  cache.set(fn, ref);
  known.set(refKey(ref), fn);
  return ref;
}

function isEmptyExports(exports: unknown): boolean {
  return typeof exports === 'object' && exports !== null && Object.keys(exports).length === 0;
}

function searchRequireCache(fn: Function): TargetRef | undefined {
  const requireCache = typeof require === 'function' ? require.cache : undefined;
  if (!requireCache) return undefined;
  for (const [file, mod] of Object.entries(requireCache)) {
    const exports = mod?.exports as unknown;
    if (exports === fn) return { module: file, name: 'module.exports', label: fn.name || 'anonymous' };
    if ((typeof exports !== 'object' && typeof exports !== 'function') || exports === null) continue;
    if (file.includes('/node_modules/') && !file.includes('/node_modules/forkscope/')) continue;
    let keys: string[];
    try {
      keys = Object.keys(exports);
    } catch {
      continue;
    }
    for (const key of keys) {
      let value: unknown;
      try {
        value = (exports as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      if (value === fn) return { module: file, name: key, label: fn.name || key };
    }
  }
  return undefined;
}

const sourceExports = new Map<string, Set<string>>();

/** The names an ES module exports, read from its source text (cached per file). */
function exportedNames(file: string): Set<string> {
  let names = sourceExports.get(file);
  if (names) return names;
  names = new Set();
  let source = '';
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    // Unreadable source: nothing can be confirmed, so the caller reports it as not exported.
  }
  const declaration = /\bexport\s+(?:declare\s+)?(?:default\s+)?(?:async\s+)?(?:function\s*\*?|class|const|let|var)\s+([A-Za-z_$][\w$]*)/g;
  for (const m of source.matchAll(declaration)) names.add(m[1]);
  if (/\bexport\s+default\s+(?:async\s+)?(?:function|class)\b/.test(source)) names.add('default');
  for (const m of source.matchAll(/\bexport\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1].split(',')) {
      const [local, exported] = part.trim().split(/\s+as\s+/);
      if (local) names.add(`${local.trim()}=>${(exported ?? local).trim()}`);
    }
  }
  for (const m of source.matchAll(/\bexport\s+default\s+([A-Za-z_$][\w$]*)\s*;?/g)) names.add(`${m[1]}=>default`);
  sourceExports.set(file, names);
  return names;
}

function scanEsmExports(file: string, fn: Function): string | undefined {
  const names = exportedNames(file);
  const own = fn.name;
  // V8 names every default-exported function `default`, arrows and anonymous functions too: a function with no
  // name is never the default export, and taking the default for it would run the wrong function in the child.
  if (!own) return undefined;
  if (own === 'default') return /\bexport\s+default\b/.test(sourceOf(file)) ? 'default' : undefined;
  const defaultDecl = new RegExp(`\\bexport\\s+default\\s+(?:async\\s+)?(?:function\\s*\\*?|class)\\s+${own.replace(/\$/g, '\\$')}\\b`);
  if (defaultDecl.test(sourceOf(file))) return 'default';
  if (names.has(own)) return own;
  for (const entry of names) {
    const [local, exported] = entry.split('=>');
    if (exported !== undefined && local === own) return exported;
  }
  return undefined;
}

function sourceOf(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Child side: imports the module and returns the export, or throws a clear error naming both. */
export async function loadTarget(ref: TargetRef): Promise<Function> {
  // Through the require hook where the module is CommonJS TypeScript: Node 20's import() of a .ts file would
  // start a loader-hooks thread, slow and listed by the debugger as one more thread of the program.
  const ns = await importModule(ref.module);
  namespaces.set(ref.module, ns);
  let value: unknown;
  if (ref.name === 'module.exports') value = ns.default ?? ns;
  else {
    value = ns[ref.name];
    if (value === undefined && ns.default && typeof ns.default === 'object') value = (ns.default as Record<string, unknown>)[ref.name];
    if (value === undefined && typeof ns.default === 'function' && ref.name !== 'default') value = (ns.default as unknown as Record<string, unknown>)[ref.name];
  }
  if (typeof value !== 'function') {
    throw new TargetNotExportedError(`${ref.label} is not exported from ${ref.module} as ${ref.name}; export it so a child can import it`);
  }
  known.set(refKey(ref), value);
  return value;
}

/** Functions and classes already found or loaded in this process, by module and export name. */
const known = new Map<string, Function>();
/** Modules loadTarget() imported: any of their exports resolves without importing again. */
const namespaces = new Map<string, Record<string, unknown>>();

function refKey(ref: TargetRef): string {
  return `${ref.name}\u0000${ref.module}`;
}

/**
 * The function `ref` names, when this process can tell without importing: found or loaded before, or exported by a
 * CommonJS module already required. Undefined otherwise (importRef() then loads it).
 */
export function lookupRef(ref: TargetRef): Function | undefined {
  const hit = known.get(refKey(ref));
  if (hit) return hit;
  const ns = namespaces.get(ref.module);
  if (ns) {
    const value = ref.name === 'module.exports' ? (ns.default ?? ns) : (ns[ref.name] ?? (ns.default as Record<string, unknown> | undefined)?.[ref.name]);
    if (typeof value === 'function') {
      known.set(refKey(ref), value);
      return value;
    }
  }
  const mod = typeof require === 'function' && isAbsolute(ref.module) ? require.cache[ref.module] : undefined;
  if (!mod) return undefined;
  const exports = mod.exports as Record<string, unknown> | Function;
  const value = ref.name === 'module.exports' ? exports : (exports as Record<string, unknown>)?.[ref.name];
  if (typeof value !== 'function') return undefined;
  known.set(refKey(ref), value);
  return value;
}

/** Imports `ref`'s module (the same instance the program's own imports see) and returns the function. */
export async function importRef(ref: TargetRef): Promise<Function> {
  return lookupRef(ref) ?? (await loadTarget(ref));
}
