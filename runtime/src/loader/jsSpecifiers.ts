// Where Node strips types itself it still resolves `./x.js` to x.js only; TypeScript (and tsx) let a
// .ts module name its neighbour x.ts as `./x.js` (tsx also as `./x`). One synchronous resolve hook (module.registerHooks, in
// this thread, no loader thread) keeps such programs running. Node's modules only.
import Module from 'node:module';

const JS_TO_TS: Record<string, string> = { '.js': '.ts', '.cjs': '.cts', '.mjs': '.mts', '.jsx': '.tsx' };
const DONE = Symbol.for('forkscope.loader.jsSpecifiers');

interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => unknown;
type RegisterHooks = (hooks: { resolve(specifier: string, context: ResolveContext, next: NextResolve): unknown }) => unknown;

/** Installs the hook once per thread where Node has module.registerHooks (22.15+, 23.5+). */
export function resolveJsSpecifiersToTs(): void {
  const registerHooks = (Module as unknown as { registerHooks?: RegisterHooks }).registerHooks;
  const state = globalThis as { [DONE]?: boolean };
  if (!registerHooks || state[DONE]) return;
  state[DONE] = true;
  registerHooks({
    resolve(specifier, context, next) {
      try {
        return next(specifier, context);
      } catch (error) {
        if (!specifier.startsWith('.') || !context.parentURL || !/\.[cm]?tsx?$/.test(context.parentURL)) throw error;
        const ext = /\.[cm]?jsx?$/.exec(specifier)?.[0];
        // `./x.js` → x.ts; an extensionless `./x` → x.ts or x/index.ts, as under tsx.
        const candidates = ext
          ? [specifier.slice(0, -ext.length) + JS_TO_TS[ext]]
          : /\.\w+$/.test(specifier)
            ? []
            : [`${specifier}.ts`, `${specifier}/index.ts`];
        for (const candidate of candidates) {
          try {
            return next(candidate, context);
          } catch {
            // Try the next form.
          }
        }
        throw error;
      }
    },
  });
}
