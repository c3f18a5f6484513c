// One line on stderr when the main program fails to load because it uses top-level await in a CommonJS package
// (esbuild's "cjs" output format, or Node's own CommonJS parse), or, where Node strips types itself, import
// statements in a package that says "type": "commonjs": what to change, just above Node's own report.
// Node's modules only; installed by the preload in a session's main process.
import { writeSync } from 'node:fs';
import { atExit } from './atExit';

const TOP_LEVEL_AWAIT = [
  /Top-level await is currently not supported with the "cjs" output format/,
  /await is only valid in async functions and the top level bodies of modules/,
];

// Node's own type stripping leaves import statements as they are, and a package that says "type": "commonjs"
// gets no module syntax detection: Node parses the file as CommonJS and stops at the first import.
const IMPORT_IN_COMMONJS = /Cannot use import statement outside a module/;

/** The hint for an error that says the program's module syntax cannot run as CommonJS, else undefined. */
export function moduleKindHint(error: unknown): string | undefined {
  const text = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
  if (IMPORT_IN_COMMONJS.test(text)) {
    return (
      'forkscope: the program uses import statements in a package whose package.json says "type": "commonjs", which this ' +
      'Node runs as written (no compiler): set "type": "module" there (or rename the file to .mts)'
    );
  }
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
  atExit(() => {
    if (!hint) return;
    try {
      writeSync(2, `${hint}\n`);
    } catch {
      // stderr is gone: nothing to tell
    }
  });
}
