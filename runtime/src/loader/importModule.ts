// How the runtime loads a program's module by path in a child (its main module, a target's module):
// `require` for a CommonJS TypeScript module when this process has the require hook, because Node 20's
// `import()` rejects a `.ts` file unless loader hooks run on their own thread. Node's modules only.
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { javaScriptKindOf, moduleKindOf } from './moduleKind';
import { hasRequireHook } from './requireHook';
import { registerEsmHooks } from './typescript';

/** The module's namespace, as `import()` gives it (a CommonJS module's exports are also its `default`). */
export async function importModule(file: string): Promise<Record<string, unknown>> {
  const kind = isAbsolute(file) ? moduleKindOf(file) : undefined;
  if (kind === 'cjs' && hasRequireHook()) return requireModule(file);
  // CommonJS JavaScript through require too: import() would start Node's ES module loader in this process and
  // lex the module for its export names, tens of milliseconds of a child's start-up before its first line.
  if (!kind && isAbsolute(file) && javaScriptKindOf(file) === 'cjs') {
    try {
      return requireModule(file);
    } catch (error) {
      // ES module syntax in a package without "type" (Node 20): import() decides, as it did before.
      if (!isModuleSyntaxError(error)) throw error;
    }
  }
  // ES module TypeScript needs the module hooks (their own thread on Node 20): started on first such import only.
  if (kind === 'esm' && hasRequireHook()) registerEsmHooks();
  return (await dynamicImport(isAbsolute(file) ? pathToFileURL(file).href : file)) as Record<string, unknown>;
}

/** Given by loader/codeCache.ts to the bundle it compiles: child.cjs's own import(). */
declare const __forkscopeImport: ((specifier: string) => Promise<unknown>) | undefined;

/**
 * The runtime's every import(). A child compiles the bundle from V8's code cache (loader/codeCache.ts), and on
 * Node 20 a script compiled from cached data cannot import() (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING): there the
 * import is child.cjs's, which sits beside index.cjs, so a specifier resolves as it would from the bundle.
 */
export function dynamicImport(specifier: string): Promise<unknown> {
  return typeof __forkscopeImport === 'function' ? __forkscopeImport(specifier) : import(specifier);
}

function requireModule(file: string): Record<string, unknown> {
  const exports = createRequire(file)(file) as Record<string, unknown>;
  return { ...exports, default: exports };
}

/** The file is an ES module that require() cannot load (it threw before running any of it). */
function isModuleSyntaxError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') return true;
  return error instanceof SyntaxError && /\bimport\b|\bexport\b|await is only valid/.test(error.message);
}
