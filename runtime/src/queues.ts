// Queue, SimpleQueue and JoinableQueue: items in shared memory that every holder maps (shm/sharedQueue.ts),
// so a put or get anywhere is a few memory operations; without the native binding the creating context owns
// the items and other contexts reach it over its broker socket. Depends on the broker and reduction contract only.
import { getBroker, held, type Peer, type Served } from './broker/broker';
import type { Frame } from './broker/frame';
import { OP_QUEUE_GET, OP_QUEUE_GOT, OP_QUEUE_JOIN, OP_QUEUE_PUT, OP_QUEUE_PUT_WAIT, OP_QUEUE_TASK_DONE } from './broker/ops';
import { ownSlots, RemoteSlot } from './broker/slots';
import { Fifo, LocalWaiter, RemoteWaiter, decodeWait, encodeWait, type Waiter } from './broker/waiters';
import { created, QueueTraffic, waitingUnlessBrief, watchDepth } from './broker/report';
import { isReporting as isReportingQueues } from './telemetry';
import { heldFromBytes, heldToBytes, hold, holdReduced, holdTraced, reducedBytes, release, tracedId, untraced, type Held } from './broker/codec';
import { Empty, Full, OSError, ValueError } from './errors';
import { reduceSymbol, registerReviver, type ReducedObject, type TransferContext } from './reduction';
import type { ObjectKind } from './protocol';
import { deserializeReduced, holdsReducible, serializeReducing } from './serialize';
import { canShareQueues } from './shm/queueMemory';
import { SharedQueue, type SharedQueueRef } from './shm/sharedQueue';
import { readTimeout } from './timeouts';

const EMPTY = Buffer.alloc(0);
const RESOLVED: Promise<void> = Promise.resolve();
/** tryGet() found nothing (undefined is an item like any other). */
const NOTHING: unique symbol = Symbol('nothing');

/** Options of put() and get(). */
export interface QueueWaitOptions {
  /** Wait for room or an item; false fails at once. @default true */
  block?: boolean;
  /** Longest wait in ms; undefined waits for ever. */
  timeout?: number;
}

/** The owner's state of one queue. */
class QueueCore implements Served {
  readonly maxsize: number;
  readonly #items = new Fifo<Held>();
  readonly #getters = new Fifo<Waiter<Held>>();
  readonly #putters = new Fifo<{ item: Held; waiter: Waiter<void> }>();
  readonly #joiners = new Fifo<Waiter<void>>();
  #unfinished = 0;
  #index = 0;
  #slot = -1;
  /** The owner reports the exact depth (puts and gets are each caller's to report). */
  readonly #traffic: QueueTraffic;

  constructor(maxsize: number, id: string) {
    this.maxsize = maxsize > 0 ? maxsize : 0;
    this.#traffic = new QueueTraffic(id, () => this.#items.length);
  }

  get depth(): number {
    return this.#items.length;
  }

  get unfinished(): number {
    return this.#unfinished;
  }

  /** Serves the queue to other contexts; returns where to find it. */
  share(): { address: string; index: number; slot: number } {
    const broker = getBroker();
    const address = broker.listen();
    if (this.#index === 0) {
      this.#index = broker.serve(this);
      this.#slot = ownSlots().allocate(this.#items.length);
    }
    return { address, index: this.#index, slot: this.#slot };
  }

  /** Items handed to each remote consumer that it has not said it read yet, oldest first. */
  readonly #handed = new Map<Peer, Held[]>();

  /**
   * The depth changed: published for remote qsize() and, exact, to the hub (puts and gets are the callers'
   * to report). Written before the change is answered, so a context that put reads it back at once.
   */
  #changed(): void {
    if (this.#slot >= 0) ownSlots().write(this.#slot, this.#items.length);
    this.#traffic.count(0, 0);
  }

  #isFull(): boolean {
    return this.maxsize > 0 && this.#items.length >= this.maxsize;
  }

  #enqueue(item: Held): void {
    this.#unfinished++;
    for (let getter = this.#getters.shift(); getter; getter = this.#getters.shift()) {
      if (getter.done || getter.peer?.closed) continue;
      getter.settle(item);
      this.#changed();
      return;
    }
    this.#items.push(item);
    this.#changed();
  }

  /** Puts at once when there is room; false when the caller must wait. */
  tryPut(item: Held): boolean {
    if (this.#isFull() || this.#putters.length > 0) return false;
    this.#enqueue(item);
    return true;
  }

  /** Takes at once when an item is there; NOTHING when the caller must wait. */
  tryGet(): Held | typeof NOTHING {
    if (this.#items.length === 0) return NOTHING;
    const item = this.#items.shift() as Held;
    this.#admitPutters();
    this.#changed();
    return item;
  }

  put(item: Held, block: boolean, timeout: number | undefined, waiter: Waiter<void>): void {
    if (!this.#isFull() && this.#putters.length === 0) {
      this.#enqueue(item);
      waiter.settle();
      return;
    }
    if (!block) {
      waiter.fail(new Full());
      return;
    }
    const entry = { item, waiter };
    this.#putters.push(entry);
    waiter.arm(timeout, () => {
      this.#putters.remove((e) => e === entry);
      waiter.fail(new Full());
    });
  }

  get(block: boolean, timeout: number | undefined, waiter: Waiter<Held>): void {
    if (this.#items.length > 0) {
      const item = this.#items.shift() as Held;
      this.#admitPutters();
      this.#changed();
      waiter.settle(item);
      return;
    }
    if (!block) {
      waiter.fail(new Empty());
      return;
    }
    this.#getters.push(waiter);
    waiter.arm(timeout, () => {
      this.#getters.remove((w) => w === waiter);
      waiter.fail(new Empty());
    });
  }

  #admitPutters(): void {
    while (!this.#isFull() && this.#putters.length > 0) {
      const { item, waiter } = this.#putters.shift()!;
      if (waiter.done || waiter.peer?.closed) continue;
      this.#enqueue(item);
      waiter.settle();
    }
  }

  taskDone(): void {
    if (this.#unfinished <= 0) throw new ValueError('task_done() called too many times');
    if (--this.#unfinished === 0) for (let j = this.#joiners.shift(); j; j = this.#joiners.shift()) j.settle();
  }

  join(waiter: Waiter<void>): void {
    if (this.#unfinished === 0) waiter.settle();
    else this.#joiners.push(waiter);
  }

  onFrame(peer: Peer, frame: Frame): void {
    switch (frame.op) {
      case OP_QUEUE_PUT: {
        const item = heldFromBytes(frame.payload);
        if (!this.tryPut(item)) this.put(item, true, undefined, new RemoteWaiter<void>(peer, 0, () => EMPTY));
        return;
      }
      case OP_QUEUE_PUT_WAIT: {
        const { block, timeout, rest } = decodeWait(frame.payload);
        this.put(heldFromBytes(rest), block, timeout, new RemoteWaiter<void>(peer, frame.request, () => EMPTY));
        return;
      }
      case OP_QUEUE_GET: {
        const { block, timeout } = decodeWait(frame.payload);
        this.get(block, timeout, new RemoteWaiter<Held>(peer, frame.request, (item) => this.#hand(peer, item)));
        return;
      }
      case OP_QUEUE_GOT:
        this.#handed.get(peer)?.shift();
        return;
      case OP_QUEUE_TASK_DONE:
        try {
          this.taskDone();
        } catch (error) {
          process.emitWarning(`forkscope: ${(error as Error).message} (from ${peer.label})`);
        }
        return;
      case OP_QUEUE_JOIN:
        this.join(new RemoteWaiter<void>(peer, frame.request, () => EMPTY));
        return;
    }
  }

  #hand(peer: Peer, item: Held): Buffer {
    const handed = this.#handed.get(peer);
    if (handed) handed.push(item);
    else this.#handed.set(peer, [item]);
    return heldToBytes(item);
  }

  onPeerClosed(peer: Peer): void {
    // Its waits end with it. Items it was answered with but never read (killed first) go back to the front,
    // in order, for the next consumer: delivered once, not lost (RELIABILITY.md promise 2).
    const unread = this.#handed.get(peer);
    this.#handed.delete(peer);
    if (unread && unread.length > 0) {
      process.emitWarning(`forkscope: ${unread.length} queue item(s) handed to ${peer.label}, which died before reading them, are delivered again`);
      for (let i = unread.length - 1; i >= 0; i--) this.#items.unshift(unread[i]!);
      for (let getter = this.#getters.shift(); getter && this.#items.length > 0; getter = this.#getters.shift()) {
        if (getter.done || getter.peer === peer || getter.peer?.closed) continue;
        getter.settle(this.#items.shift()!);
      }
      this.#changed();
    }
    this.#getters.remove((w) => w.peer === peer);
    this.#joiners.remove((w) => w.peer === peer);
    this.#putters.remove((e) => e.waiter.peer === peer);
  }
}

/** Where a revived queue finds its owner (or, in shared memory, its files and doorbell). */
interface QueueState {
  address: string;
  index: number;
  slot: number;
  maxsize: number;
  id: string;
  shm?: SharedQueueRef;
}

/** This context's handles on shared-memory queues, by file: a queue that comes back is the same handle. */
const sharedHandles = new Map<string, WeakRef<SharedQueue>>();

function sharedHandle(ref: SharedQueueRef, maxsize: number): SharedQueue {
  const known = sharedHandles.get(ref.files.base)?.deref();
  if (known) return known;
  const handle = SharedQueue.open(ref, maxsize);
  sharedHandles.set(ref.files.base, new WeakRef(handle));
  return handle;
}

/** A shared-memory queue when the binding allows (else undefined: the owner path). */
function newShared(maxsize: number): SharedQueue | undefined {
  if (!canShareQueues()) return undefined;
  try {
    const handle = SharedQueue.create(maxsize);
    sharedHandles.set(handle.memory.files.base, new WeakRef(handle));
    return handle;
  } catch (error) {
    process.emitWarning(`forkscope: a Queue falls back to its creator's memory: ${(error as Error).message}`);
    return undefined;
  }
}

class RemoteQueue {
  readonly state: QueueState;
  readonly #slot: RemoteSlot;
  #peer: Peer | undefined;
  constructor(state: QueueState) {
    this.state = state;
    this.#slot = new RemoteSlot(state.address, state.slot);
  }
  get peer(): Peer {
    const peer = this.#peer;
    if (peer && !peer.closed) return peer;
    return (this.#peer = getBroker().peer(this.state.address));
  }
  get depth(): number {
    return this.#slot.read();
  }
}

/**
 * @internal What a reviver hands a queue's constructor: what the revived queue wraps (the owner's core when
 * it lives in this context, else a handle to its owner, or its shared memory) instead of making its own.
 */
export class RevivedQueue {
  readonly core?: QueueCore;
  readonly remote?: RemoteQueue;
  readonly shared?: SharedQueue;
  readonly state?: QueueState;

  constructor(parts: { core?: QueueCore; remote?: RemoteQueue; shared?: SharedQueue; state?: QueueState }) {
    this.core = parts.core;
    this.remote = parts.remote;
    this.shared = parts.shared;
    this.state = parts.state;
  }
}

/** The machinery every queue kind shares: local or remote, serialised items, reduction. */
abstract class BaseQueue<T> {
  readonly #core: QueueCore | undefined;
  readonly #remote: RemoteQueue | undefined;
  readonly #shared: SharedQueue | undefined;
  /** How a revived shared-memory queue was reached (passed on as it came). */
  readonly #sharedRef: SharedQueueRef | undefined;
  readonly #maxsize: number;
  readonly #id: string;
  readonly #kind: ObjectKind;
  #closed = false;
  /** This context put an item: Python's close() closes a Queue's pipe only once its feeder started. */
  #used = false;
  /** This context's own puts and gets, so the hub knows producers and consumers by process. */
  #traffic: QueueTraffic | undefined;

  /** @internal */
  constructor(kind: ObjectKind, maxsize: number, revived: RevivedQueue | undefined) {
    this.#kind = kind;
    if (revived) {
      this.#core = revived.core;
      this.#remote = revived.remote;
      this.#shared = revived.shared;
      this.#sharedRef = revived.state?.shm;
      this.#id = revived.state?.id ?? revived.remote?.state.id ?? 'queue';
      this.#maxsize = revived.state?.maxsize ?? 0;
      return;
    }
    this.#maxsize = maxsize > 0 ? maxsize : 0;
    this.#id = created(kind, maxsize);
    this.#shared = newShared(this.#maxsize);
    if (this.#shared) watchDepth(this.#id, this.#shared, (shared) => shared.memory.count);
    else this.#core = new QueueCore(maxsize, this.#id);
  }

  protected get maxsizeValue(): number {
    return this.#core?.maxsize ?? this.#remote?.state.maxsize ?? this.#maxsize;
  }

  protected checkOpen(): void {
    if (this.#closed) throw new ValueError(`${this.#kind} is closed`);
  }

  protected putItem(obj: T, block: boolean, timeout: number | undefined): Promise<void> {
    this.checkOpen();
    this.#used = true;
    // A Connection (or queue, lock…) inside crosses as a copy, as over a pipe; structured clone would make it `{}`.
    let item = holdsReducible(obj) ? holdReduced(serializeReducing(obj as object, 'item')) : hold(obj);
    // Under a hub, the item carries its message id to whoever takes it (up to a budget per flush).
    const id = isReportingQueues() ? this.#trafficNow().traceId() : undefined;
    if (id !== undefined) item = holdTraced(item, id);
    const shared = this.#shared;
    if (shared) {
      if (shared.tryPut(item)) {
        this.#count(1, 0, id);
        return RESOLVED;
      }
      if (!block || timeout === 0) return Promise.reject(new Full());
      return this.#waitShared<void>((settle) => shared.waitPut(item, settle), timeout, Full).then(() => this.#count(1, 0, id));
    }
    const core = this.#core;
    if (core) {
      if (core.tryPut(item)) {
        this.#count(1, 0, id);
        return RESOLVED;
      }
      const waiter = new LocalWaiter<void>();
      core.put(item, block, timeout, waiter);
      return (waiter.done ? waiter.promise : this.#waitOn(waiter.promise)).then(() => this.#count(1, 0, id));
    }
    const remote = this.#remote!;
    // Answered once the item is in and the depth published: qsize()/empty() here read it back at once.
    const payload = Buffer.concat([encodeWait(block, timeout), heldToBytes(item)]);
    return this.#waitOn(remote.peer.request(remote.state.index, OP_QUEUE_PUT_WAIT, payload)).then(() => this.#count(1, 0, id));
  }

  protected getItem(block: boolean, timeout: number | undefined): Promise<T> {
    this.checkOpen();
    const shared = this.#shared;
    if (shared) {
      const bytes = shared.tryGet();
      if (bytes) return Promise.resolve(this.#took(heldFromBytes(bytes)));
      if (!block || timeout === 0) return Promise.reject(new Empty());
      return this.#waitShared<Buffer>((settle) => shared.waitGet(settle), timeout, Empty).then((got) => this.#took(heldFromBytes(got)));
    }
    const core = this.#core;
    if (core) {
      const now = core.tryGet();
      if (now !== NOTHING) return Promise.resolve(this.#took(now));
      const waiter = new LocalWaiter<Held>();
      core.get(block, timeout, waiter);
      const wait = waiter.done ? waiter.promise : this.#waitOn(waiter.promise);
      return wait.then((item) => this.#took(item));
    }
    const remote = this.#remote!;
    return this.#waitOn(remote.peer.request(remote.state.index, OP_QUEUE_GET, encodeWait(block, timeout))).then((bytes) => {
      remote.peer.send(remote.state.index, OP_QUEUE_GOT, EMPTY);
      return this.#took(heldFromBytes(bytes));
    });
  }

  /** A wait in line on the shared queue, given up after `timeout` ms with `Failure`. */
  #waitShared<R>(start: (settle: (value: R) => void) => { done: boolean }, timeout: number | undefined, Failure: new () => Error): Promise<R> {
    return this.#waitOn(
      new Promise<R>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const entry = start((value) => {
          clearTimeout(timer);
          resolve(value);
        });
        if (timeout !== undefined && !entry.done) {
          timer = setTimeout(() => {
            if (entry.done) return;
            entry.done = true;
            reject(new Failure());
          }, timeout);
        }
      }),
    );
  }

  #took(item: Held): T {
    const id = tracedId(item);
    if (id === undefined) {
      this.#count(0, 1);
      return releaseItem(item) as T;
    }
    this.#count(0, 1, id);
    return releaseItem(untraced(item as Buffer)) as T;
  }

  #trafficNow(): QueueTraffic {
    return (this.#traffic ??= new QueueTraffic(this.#id, () => this.depth()));
  }

  #count(puts: number, gets: number, id?: string): void {
    this.#trafficNow().count(puts, gets, id);
  }

  protected taskDoneItem(): void {
    if (this.#shared) {
      if (!this.#shared.taskDone()) throw new ValueError('task_done() called too many times');
    } else if (this.#core) this.#core.taskDone();
    else this.#remote!.peer.send(this.#remote!.state.index, OP_QUEUE_TASK_DONE, EMPTY);
  }

  protected joinItems(): Promise<void> {
    const shared = this.#shared;
    if (shared) {
      if (shared.memory.unfinished <= 0) return RESOLVED;
      return this.#waitShared<void>((settle) => shared.waitJoin(settle), undefined, Empty);
    }
    const core = this.#core;
    if (core) {
      const waiter = new LocalWaiter<void>();
      core.join(waiter);
      return waiter.done ? waiter.promise : this.#waitOn(waiter.promise);
    }
    const remote = this.#remote!;
    return this.#waitOn(remote.peer.request(remote.state.index, OP_QUEUE_JOIN).then(() => undefined));
  }

  protected depth(): number {
    if (this.#shared) return this.#shared.memory.count;
    return this.#core ? this.#core.depth : this.#remote!.depth;
  }

  /** A pending wait keeps the process alive and shows as "waiting" in the view. */
  async #waitOn<R>(wait: Promise<R>): Promise<R> {
    const done = waitingUnlessBrief({ id: this.#id, kind: this.#kind });
    try {
      return await held(wait);
    } finally {
      done();
    }
  }

  protected closeQueue(): void {
    this.#closed = true;
  }

  /** empty() after close(): an OSError as Python's poll() of a closed pipe, for a queue this context used (`always`: any queue). */
  protected checkPollable(always: boolean): void {
    if (this.#closed && (always || this.#used)) throw new OSError(`handle is closed: this ${this.#kind} was closed here`);
  }

  /** How the queue crosses into a child: the owner's address and the queue's index there. */
  [reduceSymbol](_context: TransferContext): ReducedObject {
    let state: QueueState;
    if (this.#shared) state = { address: '', index: 0, slot: -1, maxsize: this.#maxsize, id: this.#id, shm: this.#shared.share(this.#sharedRef) };
    else state = this.#core ? { ...this.#core.share(), maxsize: this.#core.maxsize, id: this.#id } : this.#remote!.state;
    return { kind: this.#kind, state };
  }

  /** @internal What a queue is rebuilt from its reduced state: this very queue's core when the owner is here. */
  static revived(state: QueueState): RevivedQueue {
    if (state.shm) return new RevivedQueue({ shared: sharedHandle(state.shm, state.maxsize), state });
    const broker = getBroker();
    const core = broker.isLocal(state.address) ? (broker.served(state.index) as QueueCore | undefined) : undefined;
    return new RevivedQueue(core ? { core } : { remote: new RemoteQueue(state) });
  }
}

/** A FIFO queue shared by processes and threads; items cross by structured clone. Python: multiprocessing.Queue */
export class Queue<T = unknown> extends BaseQueue<T> {
  /** The kind reported and used to revive; JoinableQueue overrides it. */
  protected static readonly kindName: ObjectKind = 'Queue';

  /** @param options.maxsize Most items held at once; 0 is unbounded. @default 0 */
  constructor(options?: { maxsize?: number });
  /** @internal */
  constructor(options: { maxsize?: number }, revived: RevivedQueue);
  constructor(options: { maxsize?: number } = {}, revived?: RevivedQueue) {
    super((new.target as unknown as { kindName: ObjectKind }).kindName, options.maxsize ?? 0, revived);
  }

  /** Puts an item, waiting for room in a full bounded queue; rejects `Full` on timeout or with `block: false`. Python: Queue.put */
  put(obj: T, options: QueueWaitOptions = {}): Promise<void> {
    const timeout = readTimeout(options, 'Queue.put');
    return this.putItem(obj, options?.block ?? true, timeout);
  }

  /** Puts an item or rejects `Full` at once. Python: Queue.put_nowait */
  putNowait(obj: T): Promise<void> {
    return this.putItem(obj, false, undefined);
  }

  /** Takes the oldest item, waiting for one; rejects `Empty` on timeout or with `block: false`. Python: Queue.get */
  get(options: QueueWaitOptions = {}): Promise<T> {
    const timeout = readTimeout(options, 'Queue.get');
    return this.getItem(options?.block ?? true, timeout);
  }

  /** Takes an item or rejects `Empty` at once. Python: Queue.get_nowait */
  getNowait(): Promise<T> {
    return this.getItem(false, undefined);
  }

  /** Approximate number of items (another process may change it at once). Python: Queue.qsize */
  qsize(): number {
    return this.depth();
  }

  /** True when the queue looks empty; an OSError after close() once this context put into it. Python: Queue.empty */
  empty(): boolean {
    this.checkPollable(false);
    return this.depth() === 0;
  }

  /** True when a bounded queue looks full. Python: Queue.full */
  full(): boolean {
    const maxsize = this.maxsizeValue;
    return maxsize > 0 && this.depth() >= maxsize;
  }

  /** This context will put and get no more; items already put are still delivered. Python: Queue.close */
  close(): void {
    this.closeQueue();
  }

  /**
   * Nothing to join: no feeder thread holds items back; a resolved put() is already in memory the owner
   * reads even after this context exits or is killed (a shared-memory ring, or the kernel). Python: Queue.join_thread
   */
  joinThread(): void {}

  /** Nothing to cancel, for the same reason: exit never waits for puts and never loses one that resolved. Python: Queue.cancel_join_thread */
  cancelJoinThread(): void {}
}

/** A Queue whose consumers say when each item is done, so producers can join(). Python: multiprocessing.JoinableQueue */
export class JoinableQueue<T = unknown> extends Queue<T> {
  protected static override readonly kindName: ObjectKind = 'JoinableQueue';

  constructor(options?: { maxsize?: number });
  /** @internal */
  constructor(options: { maxsize?: number }, revived: RevivedQueue);
  constructor(options: { maxsize?: number } = {}, revived?: RevivedQueue) {
    super(options, revived as RevivedQueue);
  }

  /** Marks one item taken by get() as processed; throws ValueError when called too often here. Python: JoinableQueue.task_done */
  taskDone(): void {
    this.taskDoneItem();
  }

  /** Resolves once every item put so far has been marked done. Python: JoinableQueue.join */
  join(): Promise<void> {
    return this.joinItems();
  }
}

/** An unbounded queue with just put, get and empty. Python: multiprocessing.SimpleQueue */
export class SimpleQueue<T = unknown> extends BaseQueue<T> {
  constructor();
  /** @internal */
  constructor(revived: RevivedQueue);
  constructor(revived?: RevivedQueue) {
    super('SimpleQueue', 0, revived);
  }

  /** Puts an item. Python: SimpleQueue.put */
  put(obj: T): Promise<void> {
    return this.putItem(obj, true, undefined);
  }

  /** Takes the oldest item, waiting for one. Python: SimpleQueue.get */
  get(): Promise<T> {
    return this.getItem(true, undefined);
  }

  /** True when the queue looks empty; an OSError after close(). Python: SimpleQueue.empty */
  empty(): boolean {
    this.checkPollable(true);
    return this.depth() === 0;
  }

  /** This context will use the queue no more. Python: SimpleQueue.close */
  close(): void {
    this.closeQueue();
  }
}

registerReviver('Queue', (state) => new Queue({}, BaseQueue.revived(state as QueueState)));
registerReviver('JoinableQueue', (state) => new JoinableQueue({}, BaseQueue.revived(state as QueueState)));
registerReviver('SimpleQueue', (state) => new SimpleQueue(BaseQueue.revived(state as QueueState)));

/** The value get() returns for a held item: its runtime objects revived when it was put reduced. */
function releaseItem(item: Held): unknown {
  const reduced = reducedBytes(item);
  return reduced ? deserializeReduced(reduced) : release(item);
}
