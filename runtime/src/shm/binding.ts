// Loads the native shared-memory binding (runtime/native) once, and says why when it cannot.
// Node's modules only; the binding itself is optional: threads fall back to plain SharedArrayBuffers.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface ShmBinding {
  /** Maps `length` bytes of `fd` MAP_SHARED as a SharedArrayBuffer (unmapped when collected). */
  map(fd: number, length: number): SharedArrayBuffer;
  /** flock: mode 0 shared, 1 exclusive (both non-blocking; false when taken elsewhere), -1 unlock. */
  flock(fd: number, mode: -1 | 0 | 1): boolean;
}

let loaded: ShmBinding | undefined;
let loadedFrom: string | undefined;
let failure: string | undefined;

/** Where the built addon may be: beside the bundle (runtime/dist) or the sources (runtime/src/shm). */
function candidates(): string[] {
  const fromEnv = process.env.FORKSCOPE_SHM_BINDING;
  const roots = [join(__dirname, '..'), join(__dirname, '..', '..')];
  const paths = roots.map((root) => join(root, 'native', 'build', 'Release', 'forkscope_shm.node'));
  return fromEnv ? [fromEnv, ...paths] : paths;
}

/** The binding, or undefined when it cannot load (see `bindingFailure()`). */
export function shmBinding(): ShmBinding | undefined {
  if (loaded || failure !== undefined) return loaded;
  if (process.platform === 'win32') {
    failure = 'Windows has no forkscope shared-memory binding yet';
    return undefined;
  }
  if (process.env.FORKSCOPE_SHM_BINDING === 'none') {
    failure = 'the native binding is turned off (FORKSCOPE_SHM_BINDING=none)';
    return undefined;
  }
  const found = candidates().find((p) => existsSync(p));
  if (!found) {
    failure = `the native binding was not built (looked for ${candidates().join(', ')}; run \`npm rebuild forkscope\` with a C++ toolchain)`;
    return undefined;
  }
  try {
    loaded = createRequire(__filename)(found) as ShmBinding;
    loadedFrom = found;
  } catch (error) {
    failure = `the native binding at ${found} failed to load: ${(error as Error).message}`;
  }
  return loaded;
}

/** Why the binding is unavailable, or undefined when it loaded (or was not tried yet). */
export function bindingFailure(): string | undefined {
  shmBinding();
  return failure;
}

/** The file the binding was loaded from (for helper processes that need it too). */
export function bindingPath(): string | undefined {
  shmBinding();
  return loadedFrom;
}
