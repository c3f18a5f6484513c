// Blocks of real shared memory for Value/Array/RawValue/RawArray, carved from arenas the way
// CPython's multiprocessing.heap does. An arena is a tmpfs file mapped MAP_SHARED by the native
// binding; on Linux it is unlinked at once and children reopen it through /proc/<pid>/fd/<fd>, so
// the kernel frees it when its last user exits, even after kill -9. Node's modules only.
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { StartMethod } from '../protocol';
import { bindingFailure, shmBinding } from './binding';
import { atExit } from '../atExit';

const ARENA_SIZE = 1 << 20;
const OWN_ARENA_FROM = 1 << 18;

/** One mapped file (or, without the binding, a plain SharedArrayBuffer usable by threads only). */
interface Arena {
  buffer: SharedArrayBuffer;
  size: number;
  used: number;
  fd?: number;
  dev?: number;
  ino?: number;
  /** Set where the file cannot be unlinked at once (no /proc): reopened by name. */
  path?: string;
}

/** A typed window of an arena. */
export interface Block {
  buffer: SharedArrayBuffer;
  offset: number;
  length: number;
}

/** How a block crosses into another thread or process: data only. */
export type BlockDescriptor =
  | { via: 'sab'; buffer: SharedArrayBuffer; offset: number; length: number }
  | { via: 'proc'; pid: number; fd: number; dev: number; ino: number; size: number; offset: number; length: number }
  | { via: 'path'; path: string; size: number; offset: number; length: number };

const arenaOf = new WeakMap<SharedArrayBuffer, Arena>();
// Closes an arena's fd once no block of it is reachable any more; the mapping goes with its buffer.
const closer = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already closed at exit
  }
});
const reopened = new Map<string, WeakRef<Arena>>();
const handedOut = new Set<Arena>();
const namedPaths = new Set<string>();
let current: Arena | undefined;

const useProc = process.platform === 'linux' && existsSync('/proc/self/fd');

function shmDir(): string {
  return process.platform === 'linux' && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

function track(arena: Arena): Arena {
  arenaOf.set(arena.buffer, arena);
  if (arena.fd !== undefined) closer.register(arena.buffer, arena.fd);
  return arena;
}

function newArena(size: number): Arena {
  const binding = shmBinding();
  if (!binding) return track({ buffer: new SharedArrayBuffer(size), size, used: 0 });
  const path = join(shmDir(), `forkscope-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(path, 'wx+', 0o600);
  try {
    ftruncateSync(fd, size);
    const buffer = binding.map(fd, size);
    const { dev, ino } = fstatSync(fd);
    if (useProc) {
      unlinkSync(path);
      return track({ buffer, size, used: 0, fd, dev, ino });
    }
    namedPaths.add(path);
    return track({ buffer, size, used: 0, fd, dev, ino, path });
  } catch (error) {
    closeSync(fd);
    try {
      unlinkSync(path);
    } catch {
      // gone already
    }
    throw error;
  }
}

/** Allocates `length` zeroed bytes aligned to 8. */
export function allocate(length: number): Block {
  const size = Math.max(8, Math.ceil(length / 8) * 8);
  if (size >= OWN_ARENA_FROM) {
    const arena = newArena(size);
    arena.used = size;
    return { buffer: arena.buffer, offset: 0, length };
  }
  if (!current || current.used + size > current.size) current = newArena(ARENA_SIZE);
  const offset = current.used;
  current.used += size;
  return { buffer: current.buffer, offset, length };
}

/** True when blocks can cross into processes (the binding loaded), not only threads. */
export function canShareWithProcesses(): boolean {
  return shmBinding() !== undefined;
}

/** The descriptor that lets a child of `startMethod` map the same memory. */
export function reduceBlock(block: Block, startMethod: StartMethod, what: string): BlockDescriptor {
  const { buffer, offset, length } = block;
  if (startMethod === 'thread' || startMethod === 'inline') return { via: 'sab', buffer, offset, length };
  const arena = arenaOf.get(buffer);
  if (!arena || arena.fd === undefined) {
    throw new Error(
      `forkscope cannot share this ${what} with a "${startMethod}" process: ${bindingFailure() ?? 'its memory is not a shared segment'}. Worker threads ("thread") still share it.`,
    );
  }
  // A child opens the fd some time after this; the arena must not be collected (and its fd closed) first.
  handedOut.add(arena);
  if (arena.path !== undefined) return { via: 'path', path: arena.path, size: arena.size, offset, length };
  return { via: 'proc', pid: process.pid, fd: arena.fd, dev: arena.dev!, ino: arena.ino!, size: arena.size, offset, length };
}

/** Maps the memory a descriptor names (once per arena per process). */
export function reviveBlock(descriptor: BlockDescriptor): Block {
  const { offset, length } = descriptor;
  if (descriptor.via === 'sab') return { buffer: descriptor.buffer, offset, length };
  const key = descriptor.via === 'proc' ? `${descriptor.dev}:${descriptor.ino}` : descriptor.path;
  const known = reopened.get(key)?.deref();
  if (known) return { buffer: known.buffer, offset, length };
  const binding = shmBinding();
  if (!binding) throw new Error(`forkscope cannot map shared memory in this process: ${bindingFailure()}`);
  const source = descriptor.via === 'proc' ? `/proc/${descriptor.pid}/fd/${descriptor.fd}` : descriptor.path;
  let fd: number;
  try {
    fd = openSync(source, 'r+');
  } catch (error) {
    const owner = descriptor.via === 'proc' ? ` (the process that shared it, pid ${descriptor.pid}, may have exited)` : '';
    throw new Error(`forkscope cannot open shared memory ${source}${owner}: ${(error as Error).message}`);
  }
  const stat = fstatSync(fd);
  if (descriptor.via === 'proc' && (stat.ino !== descriptor.ino || stat.dev !== descriptor.dev)) {
    closeSync(fd);
    throw new Error(`forkscope cannot open shared memory: pid ${descriptor.pid}'s fd ${descriptor.fd} no longer names it`);
  }
  const buffer = binding.map(fd, descriptor.size);
  const arena = track({
    buffer,
    size: descriptor.size,
    used: descriptor.size,
    fd,
    dev: stat.dev,
    ino: stat.ino,
    path: descriptor.via === 'path' ? descriptor.path : undefined,
  });
  reopened.set(key, new WeakRef(arena));
  return { buffer, offset, length };
}

// Without /proc the files keep a name: the creator removes them when it exits.
atExit(() => {
  for (const path of namedPaths) {
    try {
      unlinkSync(path);
    } catch {
      // removed already
    }
  }
});
