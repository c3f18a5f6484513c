// Loads the native shared-memory binding (runtime/native) once, and says once on stderr what the
// runtime falls back to when it cannot. Node's modules only; the binding itself is optional.
// Lookup, the node-gyp-build way: FORKSCOPE_SHM_BINDING, then the prebuild for this platform
// (native/prebuilds/<platform>-<arch>/forkscope_shm.napi.node), then a build from source.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ENV } from '../protocol';

export interface ShmBinding {
  /** Maps `length` bytes of `fd` MAP_SHARED as a SharedArrayBuffer (unmapped when collected). */
  map(fd: number, length: number): SharedArrayBuffer;
  /** flock: mode 0 shared, 1 exclusive (both non-blocking; false when taken elsewhere), -1 unlock. */
  flock(fd: number, mode: -1 | 0 | 1): boolean;
}

/** What the Node-API addon exports (native/shm.c). */
interface Addon {
  remap(fd: number, length: number, view: Uint8Array): void;
  flock(fd: number, mode: -1 | 0 | 1): boolean;
  abi: number;
}

/** The addon's interface version this loader speaks; an older build (V8 API, `map`) is stale. */
const ADDON_ABI = 2;
/** A WebAssembly page: the unit a shared WebAssembly.Memory grows by, and a multiple of every OS page. */
const WASM_PAGE = 65536;
/** The largest memory32 a WebAssembly.Memory can have (4 GiB), hence the largest mapping. */
export const MAX_MAPPING = 65536 * WASM_PAGE;
const FALLBACK = 'Value/Array/SharedMemory are shared with worker threads only ("thread" and "inline" start methods), and queues take the socket path';

/** The one WebAssembly API used here; the runtime's lib (ES + @types/node) does not declare it. */
const { Memory } = (
  globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer } } }
).WebAssembly;

let loaded: ShmBinding | undefined;
let loadedFrom: string | undefined;
let failure: string | undefined;
let warned = false;

/** The package's native/ folder: beside the bundle (runtime/dist) or the sources (runtime/src/shm). */
function nativeDirs(): string[] {
  return [join(__dirname, '..', 'native'), join(__dirname, '..', '..', 'native')];
}

/** Where the addon may be, in the order it is tried. */
export function bindingCandidates(): string[] {
  const fromEnv = process.env[ENV.shmBinding];
  const tag = `${process.platform}-${process.arch}`;
  const dirs = nativeDirs();
  const prebuilds = dirs.map((dir) => join(dir, 'prebuilds', tag, 'forkscope_shm.napi.node'));
  const builds = dirs.map((dir) => join(dir, 'build', 'Release', 'forkscope_shm.node'));
  return [...(fromEnv ? [fromEnv] : []), ...prebuilds, ...builds];
}

/** Wraps the addon: a shared WebAssembly.Memory gives V8-owned, page-aligned memory that the addon
 * remaps over the file, so the result is a real SharedArrayBuffer on every Node >= 20. */
function wrap(addon: Addon): ShmBinding {
  return {
    map(fd, length) {
      if (!(length > 0) || length > MAX_MAPPING) throw new RangeError(`cannot map ${length} bytes: a shared mapping holds 1 to ${MAX_MAPPING} bytes`);
      const pages = Math.ceil(length / WASM_PAGE);
      const { buffer } = new Memory({ initial: pages, maximum: pages, shared: true });
      addon.remap(fd, length, new Uint8Array(buffer));
      return buffer;
    },
    flock: (fd, mode) => addon.flock(fd, mode),
  };
}

function tryLoad(path: string): ShmBinding | string {
  try {
    const addon = createRequire(__filename)(path) as Partial<Addon>;
    if (addon.abi !== ADDON_ABI || typeof addon.remap !== 'function') return `${path} is a stale build (run \`npm rebuild forkscope\`)`;
    return wrap(addon as Addon);
  } catch (error) {
    return `${path} failed to load: ${(error as Error).message}`;
  }
}

function warnOnce(): void {
  // Children inherit the environment, so a program warns once, not once per process.
  if (warned || !failure || process.env[ENV.shmWarned] === '1') return;
  warned = true;
  process.env[ENV.shmWarned] = '1';
  process.emitWarning(`forkscope: no shared-memory binding (${failure}); ${FALLBACK}.`, { code: 'FORKSCOPE_NO_SHM_BINDING' });
}

/** The binding, or undefined when it cannot load (see `bindingFailure()`); the first miss warns once. */
export function shmBinding(): ShmBinding | undefined {
  if (loaded || failure !== undefined) return loaded;
  if (process.platform === 'win32') {
    // The segments are fds of /dev/shm or tmpfs files locked with flock: a Windows binding needs
    // named file mappings instead (see runtime/native/README.md).
    failure = 'Windows has no forkscope shared-memory binding yet';
    warnOnce();
    return undefined;
  }
  if (process.env[ENV.shmBinding] === 'none') {
    failure = 'the native binding is turned off (FORKSCOPE_SHM_BINDING=none)';
    return undefined;
  }
  const reasons: string[] = [];
  for (const path of bindingCandidates()) {
    if (!existsSync(path)) continue;
    const result = tryLoad(path);
    if (typeof result !== 'string') {
      loaded = result;
      loadedFrom = path;
      return loaded;
    }
    reasons.push(result);
  }
  failure =
    reasons.length > 0
      ? reasons.join('; ')
      : `no prebuild for ${process.platform}-${process.arch} and none built from source (run \`npm rebuild forkscope\` with a C toolchain)`;
  warnOnce();
  return undefined;
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
