// One line on stderr when the main program fails to load because it uses top-level await in a CommonJS package
// (esbuild's "cjs" output format, or Node's own CommonJS parse): what to change, just above Node's own report.
// Node's modules only; installed by the preload in a session's main process.
import { writeSync } from 'node:fs';

const TOP_LEVEL_AWAIT = [
  /Top-level await is currently not supported with the "cjs" output format/,
  /await is only valid in async functions and the top level bodies of modules/,
];

/** The hint for an error that says the program's top-level await cannot run as CommonJS, else undefined. */
export function moduleKindHint(error: unknown): string | undefined {
  const text = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
  // The runtime's own loader already says it in its error (loader/compileCache.ts): once is enough.
  if (!TOP_LEVEL_AWAIT.some((re) => re.test(text)) || text.includes('"type": "module"')) return undefined;
  const file = /(\S+\.[cm]?[jt]sx?):\d+:\d+: ERROR: Top-level await/.exec(text)?.[1];
  return (
    `forkscope: ${file ?? 'the program'} uses top-level await, which a CommonJS package cannot run: add "type": "module" ` +
    'to its package.json, or move the code into "async function main() { … }" and call "if (isMainProcess()) void main();"'
  );
}

/** Prints moduleKindHint() once as the uncaught error ends this process (Node emits `exit` before its report). */
export function explainModuleKindErrors(): void {
  let hint: string | undefined;
  process.on('uncaughtExceptionMonitor', (error) => {
    hint ??= moduleKindHint(error);
  });
  process.once('exit', () => {
    if (!hint) return;
    try {
      writeSync(2, `${hint}\n`);
    } catch {
      // stderr is gone: nothing to tell
    }
  });
}
