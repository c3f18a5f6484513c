// The ES module side of the runtime's TypeScript loader, for Nodes that cannot strip types: Node's
// `module.register` hooks (they run on Node's loader thread, so they are registered only where an ES
// module TypeScript file is loaded). Bundled to runtime/dist/loaderHooks.cjs; Node's modules only.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compiled } from './compileCache';
import { moduleKindOf } from './moduleKind';

interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string; format?: string }>;
type NextLoad = (url: string, context: object) => Promise<{ format: string; source?: string | Buffer }>;

const JS_TO_TS: Record<string, string> = { '.js': '.ts', '.cjs': '.cts', '.mjs': '.mts', '.jsx': '.tsx' };

/** `./x.js` from a TypeScript module finds `./x.ts`, as TypeScript's own resolution does. */
export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string; format?: string }> {
  try {
    return await next(specifier, context);
  } catch (error) {
    const ext = /\.[cm]?jsx?$/.exec(specifier)?.[0];
    if (!ext || !specifier.startsWith('.') || !context.parentURL || !/\.[cm]?tsx?$/.test(context.parentURL)) throw error;
    try {
      return await next(specifier.slice(0, -ext.length) + JS_TO_TS[ext], context);
    } catch {
      throw error;
    }
  }
}

/** ES module TypeScript comes from the cache; CommonJS TypeScript goes to `require`, whose hook compiles it. */
export async function load(
  url: string,
  context: object,
  next: NextLoad,
): Promise<{ format: string; source?: string; shortCircuit: true } | { format: string; source?: string | Buffer }> {
  if (!url.startsWith('file:')) return next(url, context);
  const file = fileURLToPath(url);
  const kind = moduleKindOf(file);
  if (!kind) return next(url, context);
  if (kind === 'cjs') return { format: 'commonjs', shortCircuit: true };
  return { format: 'module', source: compiled(file, readFileSync(file, 'utf8'), 'esm'), shortCircuit: true };
}
