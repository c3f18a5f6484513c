// A queue's items in shared memory that every holder maps (process or thread): a control block plus a
// chain of append-only segment files, written under a tail lock and read under a head lock (so a producer
// and a consumer never wait for each other), and any holder puts and gets without a message. Pure memory and file handling over the native binding; no sockets, no runtime objects.
import { closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { shmBinding } from './binding';
import { trackDirectory } from './lifeline';
import { ENV } from '../protocol';
import { atExit } from '../atExit';

/**
 * Control words (Int32), one cache line (16 words) per side, so producers and consumers on two cores do not
 * pull one line back and forth: the tail's (producers': its lock, where writing is, items put), the head's
 * (consumers': its lock, where reading is, items taken), and what both touch rarely (sleepers, unfinished).
 */
const LOCK = 0;
/** Counts acquisitions, so a waiter tells a holder stuck in place from one that keeps coming back. */
const LOCK_GEN = 1;
const TAIL_SEG = 2;
const TAIL_OFF = 3;
const PUTS = 4;
const HEAD_LOCK = 16;
const HEAD_GEN = 17;
const HEAD_SEG = 18;
const HEAD_OFF = 19;
const TAKES = 20;
/** Sleepers and bells, one pair per kind of wait (get, put, join): see `Sleep`. */
const SLEEPERS = 32;
const BELL = 35;
const UNFINISHED = 38;
const CONTROL_WORDS = 48;
/** @internal Where each lock word is, for tests that hold one as a holder stalled inside it would. */
export const LOCK_WORDS = { tail: LOCK, head: HEAD_LOCK } as const;

export const enum Sleep {
  Get = 0,
  Put = 1,
  Join = 2,
}

/** Bytes of one segment: items are appended and never overwritten, so a reader may decode in place. */
const SEGMENT_BYTES = 1 << 20;
/**
 * A record: u32 length of what follows (never 0), u8 kind, payload; records start at multiples of 4. The
 * length word is stored last, atomically: a segment is zero-filled, so a reader at a zero word has reached
 * the end of what was published, without reading where writing is.
 */
const RECORD_HEADER = 5;
const align4 = (n: number) => (n + 3) & ~3;
const KIND_ITEM = 0;
const KIND_SPILLED = 1;
const KIND_NEXT = 2;
/** Items larger than this go to a side file of their own; the record names it. */
const INLINE_LIMIT = 64 * 1024;

/** Spin this many times before yielding the CPU, and suspect a dead holder after this long. */
const SPINS = 64;
const SUSPECT_AFTER_MS = 200;
/** A critical section is a few microseconds: a holder that did not move for this long was terminated in it (a thread). */
const STUCK_AFTER_MS = 2000;

/** This context in the lock word: its pid and thread, so the pid alone says whether the holder's process lives. */
const lockId = ((process.pid & 0x3fffff) << 8) | (threadId & 0xff) || 1;
const nap = new Int32Array(new SharedArrayBuffer(4));

/** Where a queue's files are: its control file and, beside it, its segments (`<base>.<n>`) and side files. */
export interface QueueFiles {
  base: string;
}

const QUEUE_DIR_ENV = ENV.queueDir;
let ownDir: string | undefined;

/** One 0700 directory per program in tmpfs, removed when the process that made it exits. */
function queueDir(): string {
  const inherited = process.env[QUEUE_DIR_ENV];
  if (inherited && existsSync(inherited)) return inherited;
  if (ownDir) return ownDir;
  const root = process.platform === 'linux' && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(root, 'forkscope-q-'));
  ownDir = dir;
  process.env[QUEUE_DIR_ENV] = dir;
  atExit(() => rmSync(dir, { recursive: true, force: true }));
  // kill -9 runs no exit handler: the shared-memory watchdog removes the directory once this process is gone.
  trackDirectory(dir);
  return dir;
}

function mapFile(path: string, bytes: number, create: boolean): SharedArrayBuffer {
  const binding = shmBinding()!;
  const fd = openSync(path, create ? 'w+' : 'r+', 0o600);
  try {
    if (create) ftruncateSync(fd, bytes);
    return binding.map(fd, bytes);
  } finally {
    closeSync(fd); // the mapping outlives the descriptor
  }
}

/** True when queues can keep their items in shared memory (the binding loaded). */
export function canShareQueues(): boolean {
  return shmBinding() !== undefined;
}

/** What a take found: the item's bytes (a view that stays valid), or nothing. */
export type Taken = Buffer | undefined;

/** One mapped segment: its bytes, and the same memory as words for the atomic record lengths. */
interface Segment {
  bytes: Buffer;
  words: Int32Array;
}

export class QueueMemory {
  readonly files: QueueFiles;
  readonly #words: Int32Array;
  /** Segments mapped here, by number; dropped once reading passed them. */
  readonly #segments = new Map<number, Segment>();

  private constructor(files: QueueFiles, words: Int32Array) {
    this.files = files;
    this.#words = words;
  }

  /** A new queue's memory: its control file and its first segment. */
  static create(): QueueMemory {
    const dir = queueDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const base = join(dir, randomBytes(6).toString('hex'));
    const memory = new QueueMemory({ base }, new Int32Array(mapFile(`${base}.ctl`, CONTROL_WORDS * 4, true)));
    memory.#segment(0, true);
    return memory;
  }

  /** Maps a queue another context created. */
  static open(files: QueueFiles): QueueMemory {
    return new QueueMemory(files, new Int32Array(mapFile(`${files.base}.ctl`, CONTROL_WORDS * 4, false)));
  }

  /** Items put and not yet taken (differences wrap with the counts). */
  get count(): number {
    const words = this.#words;
    return (Atomics.load(words, PUTS) - Atomics.load(words, TAKES)) | 0;
  }

  get unfinished(): number {
    return Atomics.load(this.#words, UNFINISHED);
  }

  #segment(n: number, create = false): Segment {
    let segment = this.#segments.get(n);
    if (!segment) {
      const memory = mapFile(`${this.files.base}.${n}`, SEGMENT_BYTES, create);
      segment = { bytes: Buffer.from(memory), words: new Int32Array(memory) };
      this.#segments.set(n, segment);
    }
    return segment;
  }

  /** Takes lock word `LOCK` (the tail's, producers') or `HEAD_LOCK` (the head's, consumers'). */
  #lock(lock: number): void {
    const words = this.#words;
    if (Atomics.compareExchange(words, lock, 0, lockId) !== 0) this.#contend(lock);
    Atomics.add(words, lock === LOCK ? LOCK_GEN : HEAD_GEN, 1);
  }

  #contend(lock: number): void {
    const words = this.#words;
    const generation = lock === LOCK ? LOCK_GEN : HEAD_GEN;
    let seen = -1;
    let seenGen = -1;
    let since = 0;
    for (let round = 0; ; round++) {
      for (let i = 0; i < SPINS; i++) if (Atomics.load(words, lock) === 0 && Atomics.compareExchange(words, lock, 0, lockId) === 0) return;
      // Give the holder the CPU (two cores, many processes): a short timed wait yields to the scheduler.
      Atomics.wait(nap, 0, 0, round < 16 ? 0.02 : 1);
      if (round < 16) continue;
      const holder = Atomics.load(words, lock);
      const gen = Atomics.load(words, generation);
      if (holder !== seen || gen !== seenGen) {
        seen = holder;
        seenGen = gen;
        since = Date.now();
        continue;
      }
      // A holder killed inside its few instructions (kill -9, a terminated thread): every write is
      // published last, so take over.
      const still = Date.now() - since;
      const dead = still > SUSPECT_AFTER_MS && !isAlive(holder >>> 8);
      if (holder !== 0 && (dead || still > STUCK_AFTER_MS) && Atomics.compareExchange(words, lock, holder, lockId) === holder) return;
    }
  }

  #unlock(lock: number): void {
    Atomics.store(this.#words, lock, 0);
  }

  /**
   * Appends an item of `bytes` bytes that `write` encodes; false when a bounded queue is at `maxsize`.
   * Published whole or not at all: a put that returned true survives this process's death.
   */
  put<V>(bytes: number, value: V, write: (target: Buffer, offset: number, value: V) => void, maxsize: number): boolean {
    let spilled: string | undefined;
    if (bytes > INLINE_LIMIT) {
      // Written before the lock (it may take a while); named in the record, removed by whoever takes it.
      spilled = randomBytes(8).toString('hex');
      const data = Buffer.allocUnsafe(bytes);
      write(data, 0, value);
      writeFileSync(`${this.files.base}.x${spilled}`, data, { mode: 0o600 });
    }
    const words = this.#words;
    // Visibly full: no lock taken (a sleeper counts itself before it looks, so no wake-up is missed).
    if (maxsize > 0 && this.count >= maxsize && !spilled) return false;
    this.#lock(LOCK);
    try {
      if (maxsize > 0 && this.count >= maxsize) {
        if (spilled) unlinkSync(`${this.files.base}.x${spilled}`);
        return false;
      }
      const payload = spilled ? 8 : bytes;
      const record = align4(RECORD_HEADER + payload);
      let seg = Atomics.load(words, TAIL_SEG);
      let at = Atomics.load(words, TAIL_OFF);
      let segment = this.#segment(seg);
      // A producer killed after publishing, before moving the tail, left its record (or its NEXT) here: pass it.
      for (let length = Atomics.load(segment.words, at >> 2); length !== 0; length = Atomics.load(segment.words, at >> 2)) {
        if (segment.bytes[at + 4] === KIND_NEXT) {
          seg++;
          at = 0;
          segment = this.#segment(seg);
        } else at = align4(at + 4 + length);
      }
      if (at + record + 8 > SEGMENT_BYTES) {
        // This segment is full: the next one is created first, then named by a NEXT record.
        const next = this.#segment(seg + 1, true);
        segment.bytes[at + 4] = KIND_NEXT;
        Atomics.store(segment.words, at >> 2, 1);
        this.#segments.delete(seg);
        seg++;
        at = 0;
        segment = next;
      }
      const bytesOf = segment.bytes;
      bytesOf[at + 4] = spilled ? KIND_SPILLED : KIND_ITEM;
      if (spilled) bytesOf.write(spilled, at + RECORD_HEADER, 'hex');
      else write(bytesOf, at + RECORD_HEADER, value);
      // Counted before it is published: a holder killed between leaves the counts high (harmless), never low.
      Atomics.add(words, UNFINISHED, 1);
      Atomics.add(words, PUTS, 1);
      Atomics.store(segment.words, at >> 2, payload + 1);
      Atomics.store(words, TAIL_OFF, at + record);
      Atomics.store(words, TAIL_SEG, seg);
    } finally {
      this.#unlock(LOCK);
    }
    return true;
  }

  /** Takes the oldest item, or undefined when there is none. Its bytes are read before it leaves the queue. */
  take(): Taken {
    const words = this.#words;
    // Visibly empty: no lock taken, so idle consumers do not hold each other up. The count rises before the
    // producer looks for sleepers, and a sleeper counts itself before it looks here.
    if (this.count <= 0) return undefined;
    this.#lock(HEAD_LOCK);
    let passed = -1;
    try {
      let seg = Atomics.load(words, HEAD_SEG);
      let at = Atomics.load(words, HEAD_OFF);
      for (;;) {
        const segment = this.#segment(seg);
        const length = Atomics.load(segment.words, at >> 2);
        if (length === 0) return undefined;
        const bytes = segment.bytes;
        const kind = bytes[at + 4];
        if (kind === KIND_NEXT) {
          passed = seg;
          seg++;
          at = 0;
          Atomics.store(words, HEAD_OFF, 0);
          Atomics.store(words, HEAD_SEG, seg);
          continue;
        }
        const start = at + RECORD_HEADER;
        const end = at + 4 + length;
        let item: Buffer;
        if (kind === KIND_SPILLED) {
          const side = `${this.files.base}.x${bytes.toString('hex', start, end)}`;
          item = readFileSync(side);
          unlinkSync(side);
        } else item = bytes.subarray(start, end);
        // Head first, count second: a holder killed between leaves the count high (harmless), never low.
        Atomics.store(words, HEAD_OFF, align4(end));
        Atomics.add(words, TAKES, 1);
        return item;
      }
    } finally {
      this.#unlock(HEAD_LOCK);
      if (passed >= 0) this.#drop(passed);
    }
  }

  /** Reading passed segment `n` for good: no holder reads it again. */
  #drop(n: number): void {
    for (const key of this.#segments.keys()) if (key <= n) this.#segments.delete(key);
    try {
      unlinkSync(`${this.files.base}.${n}`);
    } catch {
      // removed already
    }
  }

  /** Marks one item done; false (nothing changed) when none is unfinished. */
  taskDone(): { ok: boolean; left: number } {
    const words = this.#words;
    for (;;) {
      const now = Atomics.load(words, UNFINISHED);
      if (now <= 0) return { ok: false, left: now };
      if (Atomics.compareExchange(words, UNFINISHED, now, now - 1) === now) return { ok: true, left: now - 1 };
    }
  }

  /** One more (or one fewer) context sleeps on `kind`. */
  sleepers(kind: Sleep, delta: number): void {
    Atomics.add(this.#words, SLEEPERS + kind, delta);
  }

  /**
   * Called after a change that may end a sleep on `kind`: true when somebody sleeps and no bell is on its
   * way yet; the caller then rings (one message for any number of changes until the bell is answered).
   */
  shouldRing(kind: Sleep): boolean {
    const words = this.#words;
    return Atomics.load(words, SLEEPERS + kind) > 0 && Atomics.compareExchange(words, BELL + kind, 0, 1) === 0;
  }

  /** The bell was answered: the next change rings again. */
  answered(kind: Sleep): void {
    Atomics.store(this.#words, BELL + kind, 0);
  }

  /** True when a sleep on `kind` would end now (checked by the doorbell's owner as a sleeper registers). */
  ready(kind: Sleep, maxsize: number): boolean {
    switch (kind) {
      case Sleep.Get: {
        // By position, not count: a count left high by a holder killed mid-update must not wake for ever.
        const words = this.#words;
        return Atomics.load(words, HEAD_SEG) !== Atomics.load(words, TAIL_SEG) || Atomics.load(words, HEAD_OFF) !== Atomics.load(words, TAIL_OFF);
      }
      case Sleep.Put:
        return maxsize <= 0 || this.count < maxsize;
      case Sleep.Join:
        return this.unfinished <= 0;
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
