// Loads the runtime bundle (index.cjs) in a child with V8's code cache, so a child does not parse and compile half
// a megabyte of JavaScript that the children before it compiled the same way. Runs in child.cjs before the bundle
// exists in the process (it must not import the bundle); Node's modules only.
import Module from 'node:module';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** Bumped when what an entry holds changes shape, so old entries are never read. */
const CACHE_VERSION = '1';

interface ModuleStatics {
  _cache: Record<string, Module>;
  _nodeModulePaths(from: string): string[];
  enableCompileCache?: (dir: string) => unknown;
}
const statics = Module as unknown as ModuleStatics;

/**
 * A folder of this user's own under the system temp folder, or undefined: V8's cached data is code, so a folder
 * that someone else made or can write is never read (a stale or foreign entry would run as the runtime).
 */
function directory(): string | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const dir = join(tmpdir(), `forkscope-v8-${uid ?? 'user'}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    if (!stat.isDirectory() || (uid !== undefined && (stat.uid !== uid || (stat.mode & 0o077) !== 0))) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * `require(file)` for the runtime bundle, compiled from V8's code cache when one matches its text. The module is
 * the one Node's loader would have made (same cache key, filename, paths), so the program's own
 * `require('forkscope')` and `import` find this instance and never load a second copy.
 */
export function requireWithCodeCache(file: string): unknown {
  const dir = directory();
  if (!dir) return require(file);
  // Node ≥ 22.1 keeps a compile cache of its own (also for the program's modules this child loads after).
  if (typeof statics.enableCompileCache === 'function') {
    statics.enableCompileCache(dir);
    return require(file);
  }
  if (statics._cache[file]) return statics._cache[file].exports;
  const bytes = readFileSync(file);
  const key = createHash('sha256').update(`${CACHE_VERSION}\0${process.version}\0${process.arch}\0${file}\0`).update(bytes).digest('hex');
  const entry = join(dir, `${key}.v8`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(entry);
  } catch {
    // Not cached yet: this child compiles, and writes the cache when it exits.
  }
  // CommonJS's wrapper, and this file's import() for the bundle's (loader/importModule.ts: from cached data it has none).
  const source = `(function (exports, require, module, __filename, __dirname, __forkscopeImport) { ${bytes.toString('utf8')}\n});`;
  const script = new Script(source, { filename: file, cachedData });
  const module = new Module(file, require.main);
  module.filename = file;
  module.paths = statics._nodeModulePaths(dirname(file));
  statics._cache[file] = module;
  try {
    const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
    const dynamicImport = (specifier: string): Promise<unknown> => import(specifier);
    wrapper.call(module.exports, module.exports, Module.createRequire(file), module, file, dirname(file), dynamicImport);
  } catch (error) {
    delete statics._cache[file];
    throw error;
  }
  module.loaded = true;
  // At exit the cache holds every function this child ran too, not only the bundle's top level.
  if (!cachedData || script.cachedDataRejected) process.once('exit', () => write(entry, script));
  return module.exports;
}

function write(entry: string, script: Script): void {
  // Written whole then renamed: a child reading at the same moment sees all of it or nothing.
  const partial = `${entry}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
    renameSync(partial, entry);
  } catch {
    // A read-only or full disk costs speed, never correctness.
  }
}
