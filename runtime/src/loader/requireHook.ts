// The CommonJS side of the runtime's TypeScript loader: `.ts`/`.cts`/`.tsx` through `require`, compiled
// by the cache, in this thread (no loader thread), and `./x.js` finding `./x.ts` as TypeScript's own
// resolution does. Node's modules only (esbuild only on a cache miss).
import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { compiled } from './compileCache';

interface ModuleInternals {
  _compile(code: string, filename: string): void;
}
type Extensions = Record<string, (module: ModuleInternals, filename: string) => void>;
type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;

const internals = Module as unknown as { _extensions: Extensions; _resolveFilename: ResolveFilename };
const JS_TO_TS: Record<string, string> = { '.js': '.ts', '.cjs': '.cts', '.mjs': '.mts', '.jsx': '.tsx' };

export function hasRequireHook(): boolean {
  return (internals._extensions['.ts'] as { forkscope?: boolean } | undefined)?.forkscope === true;
}

/** Installs the hook once per thread. */
export function installRequireHook(): void {
  if (hasRequireHook()) return;
  const load = Object.assign(
    (module: ModuleInternals, filename: string): void => {
      // An ES module file reached by require() is compiled to CommonJS too, as tsx does.
      module._compile(compiled(filename, readFileSync(filename, 'utf8'), 'cjs'), filename);
    },
    { forkscope: true },
  );
  for (const ext of ['.ts', '.cts', '.tsx']) internals._extensions[ext] = load;
  const resolve = internals._resolveFilename;
  internals._resolveFilename = function resolveTypeScript(this: unknown, request, parent, isMain, options) {
    try {
      return resolve.call(this, request, parent, isMain, options);
    } catch (error) {
      const ext = /\.[cm]?jsx?$/.exec(request)?.[0];
      const fromTs = (parent as { filename?: string } | undefined)?.filename;
      if (!ext || !request.startsWith('.') || !fromTs || !/\.[cm]?tsx?$/.test(fromTs)) throw error;
      try {
        return resolve.call(this, request.slice(0, -ext.length) + JS_TO_TS[ext], parent, isMain, options);
      } catch {
        throw error;
      }
    }
  } as ResolveFilename;
}
