// One context's handle on a queue kept in shared memory (queueMemory.ts): puts and gets straight in the
// shared segments, and, when it must wait, one sleep per kind of wait on the creator's doorbell. Held items
// (broker/codec.ts) in, held bytes out: what an item is stays the queue's business.
import { BellRope, Doorbell } from '../broker/doorbell';
import { Fifo } from '../broker/waiters';
import { heldBytes, writeHeld, type Held } from '../broker/codec';
import { QueueMemory, Sleep, type QueueFiles } from './queueMemory';

/** One waiting call: `attempt` completes it when it can (true), `done` once it completed or gave up. */
interface Attempt {
  attempt(): boolean;
  done: boolean;
}

/** Where a revived handle finds the queue: its files and the creator's doorbell. */
export interface SharedQueueRef {
  files: QueueFiles;
  address: string;
  index: number;
}

/**
 * While asleep, also look by itself, from every millisecond backing off to this: a creator busy in a loop
 * that never yields answers no sleep, and a creator that has gone answers none at all.
 */
const MAX_LOOK_MS = 100;

/** The waiting calls of one kind in this context, in order, behind at most one sleep. */
class WaitLine {
  readonly #line = new Fifo<Attempt>();
  readonly #kind: Sleep;
  readonly #queue: SharedQueue;
  #asleep = false;
  /** A sleep request is with the creator (one at a time: its answer wakes whichever sleep is current). */
  #outstanding = false;
  #look: NodeJS.Timeout | undefined;
  #lookDelay = 1;

  constructor(queue: SharedQueue, kind: Sleep) {
    this.#queue = queue;
    this.#kind = kind;
  }

  get busy(): boolean {
    return this.#line.length > 0;
  }

  add(entry: Attempt): void {
    this.#line.push(entry);
    if (!this.#asleep) this.#cycle();
  }

  /** Completes what it can, in order; true when nobody is left waiting. */
  #drain(): boolean {
    const line = this.#line;
    for (let head = line.peek(); head; head = line.peek()) {
      if (!head.done && !head.attempt()) return false;
      line.shift();
    }
    return true;
  }

  readonly #cycle = (): void => {
    if (this.#drain()) return;
    const memory = this.#queue.memory;
    // Count ourselves a sleeper, then look once more: a change made before the count did not ring.
    memory.sleepers(this.#kind, 1);
    if (this.#drain()) {
      memory.sleepers(this.#kind, -1);
      return;
    }
    this.#asleep = true;
    if (!this.#outstanding) {
      this.#outstanding = true;
      this.#queue.rope.sleep(this.#kind).then(this.#answered, this.#answered);
    }
    this.#look = setTimeout(this.#lookNow, this.#lookDelay);
    this.#look.unref(); // the waiting call holds the process, not this
  };

  readonly #answered = (): void => {
    this.#outstanding = false;
    this.#wake();
  };

  readonly #lookNow = (): void => {
    this.#look = undefined;
    if (!this.#asleep) return;
    if (this.#queue.memory.ready(this.#kind, this.#queue.maxsize)) {
      this.#lookDelay = 1;
      this.#wake();
      return;
    }
    this.#lookDelay = Math.min(this.#lookDelay * 2, MAX_LOOK_MS);
    this.#look = setTimeout(this.#lookNow, this.#lookDelay);
    this.#look.unref();
  };

  #wake(): void {
    if (!this.#asleep) return;
    this.#asleep = false;
    clearTimeout(this.#look);
    this.#look = undefined;
    this.#queue.memory.sleepers(this.#kind, -1);
    this.#cycle();
  }
}

export class SharedQueue {
  readonly memory: QueueMemory;
  readonly rope: BellRope;
  readonly maxsize: number;
  /** The creator's doorbell; undefined in every other context. */
  readonly #doorbell: Doorbell | undefined;
  readonly #gets = new WaitLine(this, Sleep.Get);
  readonly #puts = new WaitLine(this, Sleep.Put);
  readonly #joins = new WaitLine(this, Sleep.Join);

  private constructor(memory: QueueMemory, maxsize: number, doorbell: Doorbell | undefined, rope: BellRope) {
    this.memory = memory;
    this.maxsize = maxsize;
    this.#doorbell = doorbell;
    this.rope = rope;
  }

  static create(maxsize: number): SharedQueue {
    const memory = QueueMemory.create();
    const doorbell = new Doorbell({
      ready: (kind) => memory.ready(kind, maxsize),
      answered: (kind) => memory.answered(kind),
    });
    return new SharedQueue(memory, maxsize, doorbell, new BellRope(doorbell));
  }

  static open(ref: SharedQueueRef, maxsize: number): SharedQueue {
    return new SharedQueue(QueueMemory.open(ref.files), maxsize, undefined, new BellRope(undefined, ref.address, ref.index));
  }

  /** Where other contexts find this queue (the creator starts serving its doorbell). */
  share(ref?: SharedQueueRef): SharedQueueRef {
    if (ref) return ref;
    return { files: this.memory.files, ...this.#doorbell!.share() };
  }

  /** Puts now when there is room and nobody here waits before it; false otherwise. */
  tryPut(item: Held): boolean {
    if (this.#puts.busy || !this.memory.put(heldBytes(item), item, writeHeld, this.maxsize)) return false;
    if (this.memory.shouldRing(Sleep.Get)) this.rope.ring(Sleep.Get);
    return true;
  }

  /** Takes now when an item is there and nobody here waits before it; undefined otherwise. */
  tryGet(): Buffer | undefined {
    if (this.#gets.busy) return undefined;
    return this.#take();
  }

  #take(): Buffer | undefined {
    const item = this.memory.take();
    if (item && this.maxsize > 0 && this.memory.shouldRing(Sleep.Put)) this.rope.ring(Sleep.Put);
    return item;
  }

  /** Waits in line for room; `entry.attempt` is built by waitPut's caller from tryPut's write. */
  waitPut(item: Held, settle: () => void): Attempt {
    const entry: Attempt = {
      done: false,
      attempt: () => {
        if (!this.memory.put(heldBytes(item), item, writeHeld, this.maxsize)) return false;
        if (this.memory.shouldRing(Sleep.Get)) this.rope.ring(Sleep.Get);
        entry.done = true;
        settle();
        return true;
      },
    };
    this.#puts.add(entry);
    return entry;
  }

  /** Waits in line for an item. */
  waitGet(settle: (bytes: Buffer) => void): Attempt {
    const entry: Attempt = {
      done: false,
      attempt: () => {
        const item = this.#take();
        if (!item) return false;
        entry.done = true;
        settle(item);
        return true;
      },
    };
    this.#gets.add(entry);
    return entry;
  }

  /** Marks an item done; false when none is unfinished. */
  taskDone(): boolean {
    const { ok, left } = this.memory.taskDone();
    if (ok && left === 0 && this.memory.shouldRing(Sleep.Join)) this.rope.ring(Sleep.Join);
    return ok;
  }

  /** Waits until no item is unfinished. */
  waitJoin(settle: () => void): Attempt {
    const entry: Attempt = {
      done: false,
      attempt: () => {
        if (this.memory.unfinished > 0) return false;
        entry.done = true;
        settle();
        return true;
      },
    };
    this.#joins.add(entry);
    return entry;
  }
}
