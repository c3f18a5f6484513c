// Warm spares for the start methods that hand a start to an already running child (forkserver processes,
// thread workers): as many as recent demand asks for, none once the program has been idle a while.
// Parent side only; no Node APIs beyond timers.

export interface SpareOps<T> {
  /** Starts one spare (it must not keep the program alive). */
  warm(): T;
  /** False once a spare can no longer take a start (it died while waiting). */
  usable(spare: T): boolean;
  discard(spare: T): void;
}

/** Bursts remembered to size the spares: the largest burst within this window asks for as many spares. */
const DEMAND_WINDOW_MS = 5_000;
/** No start for this long: every spare ends, so an idle program holds no warm children. */
const IDLE_MS = 10_000;
/** A spare costs a process or thread of memory: demand above this many waits for cold starts. */
const MAX_SPARES = 16;

export class WarmSpares<T> {
  readonly #ops: SpareOps<T>;
  readonly #spares: T[] = [];
  /** Recent bursts (starts taken in one turn of the event loop): when, and how many. */
  readonly #bursts: Array<{ at: number; size: number }> = [];
  #burst = 0;
  #floor = 0;
  #refill: NodeJS.Immediate | undefined;
  #idle: NodeJS.Timeout | undefined;

  constructor(ops: SpareOps<T>) {
    this.#ops = ops;
  }

  /** At least `count` spares from now until the program goes idle (a pool's size, setStartMethod's first). */
  ensure(count = 1): void {
    this.#floor = Math.max(this.#floor, Math.min(count, MAX_SPARES));
    this.#fill();
    this.#armIdle();
  }

  /** A spare for one start, or undefined (start cold); warms the ones recent demand asks for behind it. */
  take(): T | undefined {
    this.#burst++;
    let spare = this.#spares.shift();
    while (spare !== undefined && !this.#ops.usable(spare)) spare = this.#spares.shift();
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

  /** A spare that ended by itself leaves the list. */
  forget(spare: T): void {
    const i = this.#spares.indexOf(spare);
    if (i >= 0) this.#spares.splice(i, 1);
  }

  /** Ends every spare (at exit, when idle, and for tests). */
  stop(): void {
    for (const spare of this.#spares.splice(0)) this.#ops.discard(spare);
    this.#floor = 0;
    this.#bursts.length = 0;
  }

  get size(): number {
    return this.#spares.length;
  }

  #wanted(): number {
    // One more than the largest recent burst (starts in one turn): a program that starts one child at a time
    // keeps two, so the next start finds one that has finished booting even when a child's run is shorter
    // than a boot; the docs' Lock example (ten started back to back) eleven. Sequential starts do not add up.
    let largest = 0;
    for (const burst of this.#bursts) largest = Math.max(largest, burst.size);
    return Math.min(MAX_SPARES, Math.max(this.#floor, largest > 0 ? largest + 1 : 0));
  }

  #fill(): void {
    while (this.#spares.length < this.#wanted()) this.#spares.push(this.#ops.warm());
  }

  #armIdle(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      this.#idle = undefined;
      this.stop();
    }, IDLE_MS);
    this.#idle.unref();
  }
}
