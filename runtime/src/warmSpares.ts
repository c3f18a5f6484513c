// Warm spares for the start methods that hand a start to an already running child (forkserver processes,
// thread workers): as many as recent demand asks for, none once the program has been idle a while.
// Parent side only; no Node APIs beyond timers and the core count.
import { availableParallelism } from 'node:os';

export interface SpareOps<T> {
  /** Starts one spare (it must not keep the program alive). */
  warm(): T;
  /** False once a spare can no longer take a start (it died while waiting). */
  usable(spare: T): boolean;
  discard(spare: T): void;
  /** True once the spare has booted and waits for its payload (the owner calls readied() then). */
  ready(spare: T): boolean;
  /**
   * Spares booting at once (default: one per core). A forkserver standby, which loads the whole program, is
   * worth booting ahead of sequential starts even while one runs: a start that finds none ready pays a whole boot.
   */
  maxBooting?: number;
  /** Sequential starts add up too: n starts within the demand window keep n + 1 spares. */
  countsSequential?: boolean;
}

/** Bursts remembered to size the spares: the largest burst within this window asks for as many spares. */
const DEMAND_WINDOW_MS = 5_000;
/** No start for this long: every spare ends, so an idle program holds no warm children. */
const IDLE_MS = 10_000;
/** A spare costs a process or thread of memory: demand above this many waits for cold starts. */
const MAX_SPARES = 16;
/**
 * Spares booting at once: one per core. Booting is CPU-bound; more at once only slows the children the
 * program just started (a burst of ten cold starts plus eleven booting spares took 2.5x as long).
 */
const MAX_BOOTING = Math.max(1, availableParallelism());

export class WarmSpares<T> {
  readonly #ops: SpareOps<T>;
  readonly #spares: T[] = [];
  /** Recent bursts (starts taken in one turn of the event loop): when, and how many. */
  readonly #bursts: Array<{ at: number; size: number }> = [];
  #burst = 0;
  /** Starts that found no booted spare since the program was last idle: each asks for one more spare. */
  #behind = 0;
  #floor = 0;
  /** When ensure() last asked: its floor is demand like a burst, and lapses with the demand window. */
  #floorAt = 0;
  #refill: NodeJS.Immediate | undefined;
  #idle: NodeJS.Timeout | undefined;

  constructor(ops: SpareOps<T>) {
    this.#ops = ops;
  }

  /** At least `count` spares from now until the program goes idle (a pool's size, setStartMethod's first). */
  ensure(count = 1): void {
    this.#floor = Math.max(this.#floorAt >= Date.now() - DEMAND_WINDOW_MS ? this.#floor : 0, Math.min(count, MAX_SPARES));
    this.#floorAt = Date.now();
    this.#armIdle();
    this.#fill();
  }

  /** A spare for one start, or undefined (start cold); warms the ones recent demand asks for behind it. */
  take(): T | undefined {
    this.#burst++;
    for (let i = this.#spares.length - 1; i >= 0; i--) if (!this.#ops.usable(this.#spares[i]!)) this.#spares.splice(i, 1);
    // A booted spare first; else the one booting longest, which is still ahead of a cold start.
    const ready = this.#spares.findIndex((s) => this.#ops.ready(s));
    const spare = this.#spares.splice(ready >= 0 ? ready : 0, 1)[0];
    if (ready < 0 && spare !== undefined) this.#behind = Math.min(this.#behind + 1, MAX_SPARES);
    // Warmed on the next turn, so a burst of start() calls in one turn is not slowed by its own refill.
    this.#refill ??= setImmediate(() => {
      this.#refill = undefined;
      const now = Date.now();
      this.#bursts.push({ at: now, size: this.#burst });
      this.#burst = 0;
      while (this.#bursts.length > 0 && this.#bursts[0]!.at < now - DEMAND_WINDOW_MS) this.#bursts.shift();
      this.#fill();
    });
    this.#refill.unref();
    this.#armIdle();
    return spare;
  }

  /** A spare has booted: the next one may start booting. */
  readied(): void {
    this.#fill();
  }

  /** A spare that ended by itself leaves the list. */
  forget(spare: T): void {
    const i = this.#spares.indexOf(spare);
    if (i >= 0) this.#spares.splice(i, 1);
  }

  /** Ends every spare (at exit, when idle, and for tests). */
  stop(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = undefined;
    for (const spare of this.#spares.splice(0)) this.#ops.discard(spare);
    this.#floor = 0;
    this.#behind = 0;
    this.#bursts.length = 0;
  }

  get size(): number {
    return this.#spares.length;
  }

  #wanted(): number {
    // One more than the largest recent burst (starts in one turn): a program that starts one child at a time
    // keeps two, so the next start finds one that has finished booting even when a child's run is shorter
    // than a boot; the docs' Lock example (ten started back to back) eleven. Sequential starts add up only where
    // the owner says so (forkserver: a standby loads the whole program, so a start that finds none pays all of it).
    let largest = 0;
    let recent = 0;
    for (const burst of this.#bursts) {
      largest = Math.max(largest, burst.size);
      recent += burst.size;
    }
    // Each start that found none booted adds one: a program whose children run shorter than a boot needs more ahead.
    const floor = this.#floorAt >= Date.now() - DEMAND_WINDOW_MS ? this.#floor : 0;
    const ahead = this.#ops.countsSequential && recent > 0 ? recent + 1 : 0;
    return Math.min(MAX_SPARES, Math.max(floor, ahead, largest > 0 ? largest + 1 + this.#behind : 0));
  }

  #fill(): void {
    // Only between a start (or ensure()) and the idle stop: a spare warmed after it would outlive the idle rule.
    if (this.#idle === undefined) return;
    const wanted = this.#wanted();
    let booting = 0;
    for (const spare of this.#spares) if (!this.#ops.ready(spare)) booting++;
    const maxBooting = this.#ops.maxBooting ?? MAX_BOOTING;
    while (this.#spares.length < wanted && booting < maxBooting) {
      this.#spares.push(this.#ops.warm());
      booting++;
    }
  }

  #armIdle(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.stop(), IDLE_MS);
    this.#idle.unref();
  }
}
