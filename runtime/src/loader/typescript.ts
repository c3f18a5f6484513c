// Makes this thread run a program's TypeScript: Node's own type stripping where it is on, else the
// runtime's loader (the require hook always; the ES module hooks only for ES module TypeScript).
// Used by the loader preload (runtime/dist/loader.cjs) and by every child's bootstrap. Node's modules only.
import Module from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hasRequireHook, installRequireHook } from './requireHook';
import { moduleKindOf, type ModuleKind } from './moduleKind';
import { resolveJsSpecifiersToTs } from './jsSpecifiers';
import { precompile } from './compileCache';
import { probeNodeTypeScript } from '../protocol';

const ESM_HOOKS = Symbol.for('forkscope.loader.esmHooks');

let stripsTypes: boolean | undefined;
/** Whether the Node in use runs TypeScript as written by itself (see `NodeTypeScript.stripsTypes`); asked once. */
export function nodeStripsTypes(): boolean {
  stripsTypes ??= probeNodeTypeScript().stripsTypes;
  return stripsTypes;
}

/**
 * Prepares this thread for `file` (the program's main module): nothing when it is not TypeScript. A child's
 * bootstrap passes `always`: another loader's require hook (tsx) may be here without its ES module hooks,
 * which a worker thread does not inherit.
 */
export function useTypeScriptFor(file: string | undefined, always = false): ModuleKind | undefined {
  const kind = file ? moduleKindOf(file) : undefined;
  if (!kind) return kind;
  if (nodeStripsTypes()) {
    resolveJsSpecifiersToTs();
    return kind;
  }
  // Another loader (tsx, ts-node) already runs TypeScript in this thread: a second would only cost time.
  if (!always && hasOtherRequireHook()) return kind;
  installRequireHook();
  // Stack traces point into the .ts files (the compiled modules carry inline source maps).
  process.setSourceMapsEnabled(true);
  if (kind === 'esm') registerEsmHooks();
  return kind;
}

/** A spare's head start on `file` (the program's main module): its JavaScript looked up, nothing run. */
export function precompileMain(file: string | undefined): void {
  if (!file || nodeStripsTypes() || !hasRequireHook() || moduleKindOf(file) !== 'cjs') return;
  precompile(file, 'cjs');
}

/** Registers the ES module hooks once per thread (Node starts its loader thread for them). */
export function registerEsmHooks(): void {
  const state = globalThis as { [ESM_HOOKS]?: boolean };
  if (state[ESM_HOOKS] || nodeStripsTypes()) return;
  state[ESM_HOOKS] = true;
  const hooks = [
    join(__dirname, 'loaderHooks.cjs'),
    join(__dirname, '..', 'dist', 'loaderHooks.cjs'),
    join(__dirname, '..', '..', 'dist', 'loaderHooks.cjs'),
  ].find((p) => existsSync(p));
  if (!hooks) throw new Error('forkscope: runtime/dist/loaderHooks.cjs is missing; rebuild the runtime (npm run build)');
  (Module as unknown as { register(url: string): void }).register(pathToFileURL(hooks).href);
}

/** tsx's or ts-node's hook; where Node strips types (Node 22 too, whose stripping we do not use), the hook found is Node's own. */
function hasOtherRequireHook(): boolean {
  if (hasRequireHook() || (process.features as { typescript?: unknown }).typescript) return false;
  return typeof (Module as unknown as { _extensions: Record<string, unknown> })._extensions['.ts'] === 'function';
}
