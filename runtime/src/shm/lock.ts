// A lock that lives in a shared-memory block, so every thread and process that maps the block can
// take it without a message: compare-and-swap to acquire, a short spin then timer back-off to wait,
// and a dead holder (its process, or its worker thread, gone) is taken over with `ownerDied`. Serves
// Value/Array's getLock() and Lock/RLock. Node's modules only; depends on arena.ts for the memory and
// on reduction.ts to cross.
import { randomInt } from 'node:crypto';
import { existsSync, readlinkSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { reduceSymbol, registerReviver, type ReducedObject, type TransferContext } from '../reduction';
import { RuntimeError, ValueError } from '../errors';
import { callSite, emitNow, isReporting, objectCreated } from '../telemetry';
import { processKey, type ObjectKind, type SyncActivity } from '../protocol';
import { allocate, reduceBlock, reviveBlock, type Block, type BlockDescriptor } from './arena';
import { readTimeout } from '../timeouts';

// The block's words. OWNER is the only one other threads synchronise on (CAS to take, a store to
// give back); the others are plain writes made while holding it, cleared before the releasing store,
// so a waiter that reads a non-zero OWNER sees either 0 or the current holder's pid/tid there.
const OWNER = 0;
const COUNT = 1;
const PID = 2;
/** The holder's OS thread id (Linux), so a worker thread that died holding the lock can be told from a live one. */
const TID = 3;
const WORDS = 4;
const SPINS = 2000;
/** Event-loop turns spent polling before sleeping on timers (a holder usually releases within these). */
const YIELDS = 200;
const LIVENESS_EVERY_MS = 50;

/** This thread's owner token: unique enough among live threads of the program, never 0. */
const token = randomInt(1, 0x7fffffff) ^ (threadId & 0xff);
const me = token === 0 ? 1 : token;
// Read once: `process.pid` is a getter, and acquire/release sit in users' hottest loops.
const myPid = process.pid;
/** This thread's kernel id (`/proc/thread-self` → `<pid>/task/<tid>`); 0 where there is no /proc. */
const myTid = ownTid();

function ownTid(): number {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : 0;
  } catch {
    return 0;
  }
}

const TAKEN = Promise.resolve(true);
const NOT_TAKEN = Promise.resolve(false);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));
}

function isAlive(pid: number): boolean {
  if (pid === myPid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the holder (process `pid`, kernel thread `tid`) still runs. A worker thread's tid differs
 * from its pid; when it ends (terminated, crashed, its process alive) its /proc task entry goes, and
 * that is the only trace a waiter in another process can see. tid 0: not known, the process decides.
 */
function holderAlive(pid: number, tid: number): boolean {
  if (!isAlive(pid)) return false;
  if (tid === 0 || tid === pid || tid === myTid) return true;
  return existsSync(`/proc/${pid}/task/${tid}`);
}
/**
 * How every shared-memory waiter waits: `take()` spun a little (a holder in another thread often lets
 * go within microseconds), then once per event-loop turn, then on timers backing off to 8 ms, so a
 * waiter never blocks its thread; `rescue()` (a dead holder's takeover) every LIVENESS_EVERY_MS.
 * Resolves true once `take()` or `rescue()` did, false when `timeout` ms passed.
 */
export async function pollFor(take: () => boolean, timeout: number | undefined, rescue?: () => boolean): Promise<boolean> {
  for (let i = 0; i < SPINS; i++) if (take()) return true;
  const deadline = timeout === undefined ? Infinity : Date.now() + Math.max(0, timeout);
  let delay = 0;
  let turns = 0;
  let nextLiveness = Date.now() + LIVENESS_EVERY_MS;
  for (;;) {
    await sleep(Math.min(delay, deadline - Date.now()));
    if (take()) return true;
    const now = Date.now();
    if (now >= deadline) return false;
    if (rescue && now >= nextLiveness) {
      nextLiveness = now + LIVENESS_EVERY_MS;
      if (rescue()) return true;
    }
    if (++turns > YIELDS) delay = delay === 0 ? 1 : Math.min(delay * 2, 8);
  }
}

export interface AcquireOptions {
  /** Wait for the lock; `false` answers at once. @default true */
  block?: boolean;
  /** Longest wait in ms; none (or null, Infinity) waits forever; negative means "do not wait". Ignored with `block: false`. */
  timeout?: number | null;
}

/**
 * The timeout of `acquire(options)` (Python's first parameter is `block`, so only `{ block, timeout }`),
 * read before anything is taken: a NaN or a string gives the TypeError to reject with, never a wait without end.
 */
export function acquireTimeout(options: AcquireOptions | undefined, where: string): number | undefined | TypeError {
  if (options === undefined) return undefined;
  try {
    return readTimeout(options, where);
  } catch (error) {
    return error as TypeError;
  }
}

/** Lock or RLock over shared memory (the default lock of a synchronized Value/Array, and the fast path of Lock/RLock). */
export class ShmLock {
  readonly #words: Int32Array;
  readonly #block: Block;
  readonly #recursive: boolean;
  readonly #id: string;
  #ownerDied = false;

  constructor(options: { recursive?: boolean; block?: Block; id?: string } = {}) {
    this.#recursive = options.recursive ?? true;
    this.#block = options.block ?? allocate(WORDS * 4);
    this.#words = new Int32Array(this.#block.buffer, this.#block.offset, WORDS);
    this.#id = options.id ?? objectCreated(this.#kind, { site: isReporting() ? callSite() : undefined });
  }

  get #kind(): ObjectKind {
    return this.#recursive ? 'RLock' : 'Lock';
  }

  // Kept out of the fast paths (which only test isReporting()) so they stay small enough to inline.
  #report(op: SyncActivity['op'], held: boolean): void {
    emitNow({ t: 'sync', ts: Date.now(), id: this.#id, op, holder: held ? processKey(process.pid, threadId) : null, site: callSite() });
  }

  /** True when the last acquire took the lock from a holder that had died. */
  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  /** The program-wide id the hub knows it by. */
  get id(): string {
    return this.#id;
  }

  /** How many levels this thread holds (0: none). */
  get levelsHeld(): number {
    return Atomics.load(this.#words, OWNER) === me ? this.#words[COUNT]! : 0;
  }

  /** Takes the lock (`count` levels of an RLock) without waiting; true when taken. */
  tryAcquire(count = 1): boolean {
    const words = this.#words;
    // One CAS answers both questions: free (0, now ours) or already ours (an RLock's re-entry).
    const owner = Atomics.compareExchange(words, OWNER, 0, me);
    if (owner === 0) {
      words[PID] = myPid;
      words[TID] = myTid;
      words[COUNT] = count;
      this.#ownerDied = false;
      if (isReporting()) this.#report('acquire', true);
      return true;
    }
    if (owner === me && this.#recursive) {
      words[COUNT]! += count;
      return true;
    }
    return false;
  }

  /** Resolves true once held, false on timeout or when `block` is false and it is taken; rejects TypeError for a bad timeout. */
  acquire(options?: AcquireOptions, count = 1): Promise<boolean> {
    const timeout = acquireTimeout(options, `${this.#kind}.acquire`);
    if (timeout instanceof TypeError) return Promise.reject(timeout);
    // The uncontended path allocates nothing: one CAS and an already-settled promise.
    if (this.tryAcquire(count)) return TAKEN;
    if (options?.block === false) return NOT_TAKEN;
    return this.#wait(timeout, count);
  }

  async #wait(timeout: number | undefined, count: number): Promise<boolean> {
    if (!isReporting()) return this.#poll(timeout, count);
    emitNow({ t: 'state', ts: Date.now(), state: 'waiting', on: { id: this.#id, kind: this.#kind }, site: callSite() });
    this.#report('wait', false);
    try {
      const taken = await this.#poll(timeout, count);
      if (!taken && isReporting()) this.#report('timeout', false);
      return taken;
    } finally {
      emitNow({ t: 'state', ts: Date.now(), state: 'running' });
    }
  }

  #poll(timeout: number | undefined, count: number): Promise<boolean> {
    const words = this.#words;
    // Read before the CAS: spinning on a CAS would take the cache line from the holder each time.
    return pollFor(
      () => Atomics.load(words, OWNER) === 0 && this.tryAcquire(count),
      timeout,
      () => this.#takeFromDeadOwner(count),
    );
  }

  #takeFromDeadOwner(count: number): boolean {
    const words = this.#words;
    const owner = Atomics.load(words, OWNER);
    const pid = words[PID]!;
    const tid = words[TID]!;
    // pid 0: the holder has taken OWNER and not yet written its pid; it is alive.
    if (owner === 0 || pid === 0 || holderAlive(pid, tid)) return false;
    if (Atomics.compareExchange(words, OWNER, owner, me) !== owner) return false;
    words[PID] = myPid;
    words[TID] = myTid;
    words[COUNT] = count;
    this.#ownerDied = true;
    if (isReporting()) this.#report('ownerDied', true);
    return true;
  }

  /** Releases one level of ownership. Python: RLock.release() */
  release(): void {
    this.releaseLevels(1);
  }

  /** Releases `count` levels (a plain Lock: all of it); Python's error names: ValueError for a Lock, RuntimeError for an RLock. */
  releaseLevels(count: number): void {
    const words = this.#words;
    const owner = Atomics.load(words, OWNER);
    if (owner === 0) throw this.#recursive ? new RuntimeError('cannot release un-acquired lock') : new ValueError('release unlocked lock');
    if (this.#recursive) {
      if (owner !== me || words[COUNT]! < count) throw new RuntimeError('cannot release un-acquired lock');
      if ((words[COUNT]! -= count) > 0) return;
    }
    // Plain writes, published by the store to OWNER after them (a waiter that sees OWNER 0 sees these).
    words[COUNT] = 0;
    words[PID] = 0;
    words[TID] = 0;
    Atomics.store(words, OWNER, 0);
    if (isReporting()) this.#report('release', false);
  }

  /** True while some thread or process holds it. */
  locked(): boolean {
    return Atomics.load(this.#words, OWNER) !== 0;
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    return { kind: 'forkscope.ShmLock', state: { recursive: this.#recursive, id: this.#id, block: reduceBlock(this.#block, context.startMethod, 'lock') } };
  }
}

registerReviver('forkscope.ShmLock', (state) => {
  const { recursive, id, block } = state as { recursive: boolean; id: string; block: BlockDescriptor };
  return new ShmLock({ recursive, id, block: reviveBlock(block) });
});
