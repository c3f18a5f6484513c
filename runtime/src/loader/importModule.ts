// How the runtime loads a program's module by path in a child (its main module, a target's module):
// `require` for a CommonJS TypeScript module when this process has the require hook, because Node 20's
// `import()` rejects a `.ts` file unless loader hooks run on their own thread. Node's modules only.
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { moduleKindOf } from './moduleKind';
import { hasRequireHook } from './requireHook';
import { registerEsmHooks } from './typescript';

/** The module's namespace, as `import()` gives it (a CommonJS module's exports are also its `default`). */
export async function importModule(file: string): Promise<Record<string, unknown>> {
  const kind = isAbsolute(file) ? moduleKindOf(file) : undefined;
  if (kind === 'cjs' && hasRequireHook()) {
    const exports = createRequire(file)(file) as Record<string, unknown>;
    return { ...exports, default: exports };
  }
  // ES module TypeScript needs the module hooks (their own thread on Node 20): started on first such import only.
  if (kind === 'esm' && hasRequireHook()) registerEsmHooks();
  return (await import(isAbsolute(file) ? pathToFileURL(file).href : file)) as Record<string, unknown>;
}
