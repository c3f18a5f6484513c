// TypeScript → JavaScript, once per source text: a content-addressed cache on disk, so that every child
// and worker after the first reads JavaScript and never starts a transpiler. esbuild is loaded only on a
// miss. Runs in every process of a program (and in Node 20's loader-hooks thread); Node's modules + esbuild.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModuleKind } from './moduleKind';
import { ENV } from '../protocol';

/** Bumped when what the cache holds changes shape, so old entries are never read. */
const CACHE_VERSION = '1';

let cacheDir: string | undefined;
/** `FORKSCOPE_TS_CACHE`, else a folder of this user's own under the system temp folder. */
function directory(): string {
  if (cacheDir) return cacheDir;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  cacheDir = process.env[ENV.tsCache] || join(tmpdir(), `forkscope-ts-${uid}`);
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  return cacheDir;
}

type Esbuild = typeof import('esbuild');
let esbuild: Esbuild | undefined;
function transpiler(): Esbuild {
  if (esbuild) return esbuild;
  // Without this, esbuild's synchronous API runs its service on a worker thread, which a debugger lists
  // as one more thread of the program. With it, each transform is one short-lived esbuild process.
  const saved = process.env.ESBUILD_WORKER_THREADS;
  process.env.ESBUILD_WORKER_THREADS = '0';
  try {
    esbuild = require('esbuild') as Esbuild;
  } finally {
    if (saved === undefined) delete process.env.ESBUILD_WORKER_THREADS;
    else process.env.ESBUILD_WORKER_THREADS = saved;
  }
  return esbuild;
}

/** How many transforms this process ran (0 in a child that found everything cached): for tests. */
export let transformCount = 0;

/** Modules looked up ahead by a spare (precompile()), each handed out once, to the load it was made for. */
const prepared = new Map<string, { source: string; code: string }>();

/** The JavaScript for `source` (the text of `filename`) as `kind`, with an inline source map to the .ts file. */
export function compiled(filename: string, source: string, kind: ModuleKind): string {
  const ahead = prepared.get(`${kind}\0${filename}`);
  if (ahead) {
    prepared.delete(`${kind}\0${filename}`);
    if (ahead.source === source) return ahead.code;
  }
  return compiledOnce(filename, source, kind);
}

/**
 * A spare (popen.ts, forkserver.ts) looks up the program's main module ahead of its payload: the hash (the crypto
 * library's start-up) and the cache read leave the start's path. Nothing of the program runs; errors wait for the
 * real load.
 */
export function precompile(filename: string, kind: ModuleKind): void {
  try {
    const source = readFileSync(filename, 'utf8');
    prepared.set(`${kind}\0${filename}`, { source, code: compiledOnce(filename, source, kind) });
  } catch {
    // Reported when the module really loads.
  }
}

function compiledOnce(filename: string, source: string, kind: ModuleKind): string {
  const key = createHash('sha256').update(`${CACHE_VERSION}\0${kind}\0${process.versions.node}\0${filename}\0`).update(source).digest('hex');
  const entry = join(directory(), `${key}.js`);
  try {
    return readFileSync(entry, 'utf8');
  } catch {
    // Not cached yet: transform below.
  }
  const code = transform(filename, source, kind);
  // Written whole then renamed: a process reading at the same moment sees all of it or nothing.
  const partial = `${entry}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(partial, code, { mode: 0o600 });
    renameSync(partial, entry);
  } catch {
    // A read-only or full disk costs speed, never correctness.
  }
  return code;
}

const IMPORT_META_IN_CJS = {
  define: { 'import.meta.url': '__forkscopeImportMetaUrl', 'import.meta.filename': '__filename', 'import.meta.dirname': '__dirname' },
  banner: 'var __forkscopeImportMetaUrl = require("node:url").pathToFileURL(__filename).href;',
};

function transform(filename: string, source: string, kind: ModuleKind): string {
  transformCount++;
  try {
    return transpiler().transformSync(source, {
      loader: filename.endsWith('x') ? 'tsx' : 'ts',
      format: kind,
      target: `node${process.versions.node.split('.')[0]}`,
      sourcefile: filename,
      sourcemap: 'inline',
      sourcesContent: false,
      // `import.meta.url` and friends in a CommonJS module are what they would be in ESM.
      ...(kind === 'cjs' && source.includes('import.meta') ? IMPORT_META_IN_CJS : {}),
    }).code;
  } catch (error) {
    throw transformError(filename, error, kind);
  }
}

/** esbuild's report as one SyntaxError naming the file, the line and, for top-level await, what to change. */
function transformError(filename: string, error: unknown, kind: ModuleKind): SyntaxError {
  const first = (error as { errors?: Array<{ text: string; location?: { line: number; column: number } }> }).errors?.[0];
  if (!first) return error as SyntaxError;
  const where = first.location ? `${filename}:${first.location.line}:${first.location.column + 1}` : filename;
  const hint =
    kind === 'cjs' && /top-level await/i.test(first.text)
      ? ' (this file is CommonJS: add "type": "module" to its package.json, or rename it to .mts, to use top-level await)'
      : '';
  return new SyntaxError(`${first.text}${hint}\n    at ${where}`);
}
