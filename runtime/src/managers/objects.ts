// The objects a manager server holds for its clients: dict, list, Namespace, Value, Array and
// in-memory Lock/RLock/Semaphore/BoundedSemaphore/Condition/Event/Barrier/Queue/JoinableQueue.
// Each lists the methods a client may call (nothing else is reachable) and checks its arguments as the
// local class does (timeouts.ts). Values are the v8 data clients sent. Waits are cancelled when the
// waiting client's connection goes, and what a vanished client held is released. Node's modules only.
import { serialize } from 'node:v8';
import { AttributeError, BrokenBarrierError, Empty, Full, IndexError, KeyError, RuntimeError, ValueError } from '../errors';
import { readTimeout } from '../timeouts';

/** Who is calling: the connection (a process's proxies share one) and its lifetime. */
export interface Caller {
  owner: string;
  signal: AbortSignal;
}

export interface Served {
  /** The methods a client may call, by name. */
  readonly exposed: ReadonlySet<string>;
  /** Called when a client connection closes: release what it held. */
  dropOwner?(owner: string): void;
}

interface WaitOptions {
  block?: boolean;
  timeout?: number | null;
}

/** FIFO waiters; a wait ends woken (true), timed out (false), or when the caller's connection goes. */
class WaitList {
  readonly #waiters = new Set<(woken: boolean) => void>();

  wait(timeoutMs: number | undefined, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (woken: boolean): void => {
        this.#waiters.delete(finish);
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(woken);
      };
      const onAbort = (): void => finish(false);
      this.#waiters.add(finish);
      signal.addEventListener('abort', onAbort);
      if (timeoutMs !== undefined) timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
    });
  }

  wakeOne(): boolean {
    const first = this.#waiters.values().next();
    if (first.done) return false;
    first.value(true);
    return true;
  }

  wakeAll(): void {
    for (const waiter of [...this.#waiters]) waiter(true);
  }

  get size(): number {
    return this.#waiters.size;
  }
}

/** Reads `{ block, timeout }` (a bare number too where Python's first parameter is the timeout) into a deadline. */
function waitOptions(options: unknown, where: string, bareNumber = false): { block: boolean; deadline: number | undefined } {
  const timeout = readTimeout(options, where, bareNumber);
  const block = typeof options === 'object' && options !== null ? (options as WaitOptions).block : undefined;
  if (block !== undefined && typeof block !== 'boolean') throw new TypeError(`${where}: block must be true or false`);
  return { block: block ?? true, deadline: timeout === undefined ? undefined : Date.now() + timeout };
}

function remaining(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
}

/** Python's equality for keys and list items: the same primitive, or objects with the same structure. */
function keyOf(key: unknown): string {
  switch (typeof key) {
    case 'string':
      return `s${key}`;
    case 'number':
      return `n${Object.is(key, -0) ? 0 : key}`;
    case 'bigint':
      return `b${key}`;
    case 'boolean':
    case 'undefined':
      return String(key);
  }
  if (key === null) return 'null';
  return `o${serialize(key).toString('latin1')}`;
}

function describeKey(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key);
  if (typeof key === 'bigint') return `${key}n`;
  try {
    return JSON.stringify(key) ?? String(key);
  } catch {
    return String(key);
  }
}

function normalizeIndex(i: unknown, length: number, insert = false): number {
  if (typeof i !== 'number' || !Number.isInteger(i)) throw new TypeError('list indices must be integers');
  const at = i < 0 ? i + length : i;
  if (insert) return Math.min(Math.max(at, 0), length);
  if (at < 0 || at >= length) throw new IndexError('list index out of range');
  return at;
}

const exposed = (...names: string[]): ReadonlySet<string> => new Set(names);

export class DictObject implements Served {
  readonly exposed = exposed('get', 'set', 'delete', 'has', 'pop', 'popitem', 'setdefault', 'keys', 'values', 'items', 'update', 'clear', 'copy', 'len');
  readonly #map = new Map<string, [unknown, unknown]>();

  constructor(init?: unknown) {
    if (init) this.#update(init);
  }
  get(_caller: Caller, key: unknown, fallback: unknown = null): unknown {
    const entry = this.#map.get(keyOf(key));
    return entry ? entry[1] : fallback;
  }
  set(_caller: Caller, key: unknown, value: unknown): void {
    this.#map.set(keyOf(key), [key, value]);
  }
  delete(_caller: Caller, key: unknown): void {
    if (!this.#map.delete(keyOf(key))) throw new KeyError(describeKey(key));
  }
  has(_caller: Caller, key: unknown): boolean {
    return this.#map.has(keyOf(key));
  }
  pop(_caller: Caller, key: unknown, ...fallback: unknown[]): unknown {
    const entry = this.#map.get(keyOf(key));
    if (!entry) {
      if (fallback.length > 0) return fallback[0];
      throw new KeyError(describeKey(key));
    }
    this.#map.delete(keyOf(key));
    return entry[1];
  }
  popitem(_caller: Caller): [unknown, unknown] {
    const last = [...this.#map.keys()].pop();
    if (last === undefined) throw new KeyError("'popitem(): dictionary is empty'");
    const entry = this.#map.get(last)!;
    this.#map.delete(last);
    return entry;
  }
  setdefault(_caller: Caller, key: unknown, fallback: unknown = null): unknown {
    const entry = this.#map.get(keyOf(key));
    if (entry) return entry[1];
    this.#map.set(keyOf(key), [key, fallback]);
    return fallback;
  }
  keys(_caller: Caller): unknown[] {
    return [...this.#map.values()].map(([k]) => k);
  }
  values(_caller: Caller): unknown[] {
    return [...this.#map.values()].map(([, v]) => v);
  }
  items(_caller: Caller): [unknown, unknown][] {
    return [...this.#map.values()];
  }
  update(_caller: Caller, other: unknown): void {
    this.#update(other);
  }
  #update(other: unknown): void {
    const entries =
      Array.isArray(other) || other instanceof Map ? [...(other as Iterable<[unknown, unknown]>)] : Object.entries((other ?? {}) as Record<string, unknown>);
    for (const [k, v] of entries) this.#map.set(keyOf(k), [k, v]);
  }
  clear(_caller: Caller): void {
    this.#map.clear();
  }
  /** A plain object (keys as strings), as `dict(proxy)` gives a dict. */
  copy(_caller: Caller): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of this.#map.values()) Object.defineProperty(out, String(k), { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  }
  len(_caller: Caller): number {
    return this.#map.size;
  }
}

export class ListObject implements Served {
  readonly exposed = exposed(
    'get',
    'set',
    'delete',
    'append',
    'extend',
    'insert',
    'pop',
    'remove',
    'index',
    'count',
    'reverse',
    'sort',
    'clear',
    'copy',
    'len',
    'slice',
  );
  #items: unknown[];

  constructor(init?: unknown) {
    this.#items = Array.isArray(init) ? [...(init as unknown[])] : [];
  }
  get(_caller: Caller, i: unknown): unknown {
    return this.#items[normalizeIndex(i, this.#items.length)];
  }
  set(_caller: Caller, i: unknown, value: unknown): void {
    this.#items[normalizeIndex(i, this.#items.length)] = value;
  }
  delete(_caller: Caller, i: unknown): void {
    this.#items.splice(normalizeIndex(i, this.#items.length), 1);
  }
  append(_caller: Caller, value: unknown): void {
    this.#items.push(value);
  }
  extend(_caller: Caller, values: unknown): void {
    if (!Array.isArray(values)) throw new TypeError('extend() takes an array');
    this.#items.push(...(values as unknown[]));
  }
  insert(_caller: Caller, i: unknown, value: unknown): void {
    this.#items.splice(normalizeIndex(i, this.#items.length, true), 0, value);
  }
  pop(_caller: Caller, i: unknown = -1): unknown {
    if (this.#items.length === 0) throw new IndexError('pop from empty list');
    return this.#items.splice(normalizeIndex(i, this.#items.length), 1)[0];
  }
  remove(_caller: Caller, value: unknown): void {
    this.#items.splice(this.index(_caller, value), 1);
  }
  index(_caller: Caller, value: unknown): number {
    const key = keyOf(value);
    const at = this.#items.findIndex((item) => keyOf(item) === key);
    if (at < 0) throw new ValueError(`${describeKey(value)} is not in list`);
    return at;
  }
  count(_caller: Caller, value: unknown): number {
    const key = keyOf(value);
    return this.#items.filter((item) => keyOf(item) === key).length;
  }
  reverse(_caller: Caller): void {
    this.#items.reverse();
  }
  sort(_caller: Caller, options?: { reverse?: boolean }): void {
    this.#items.sort((a, b) => (a === b ? 0 : (a as number) < (b as number) ? -1 : 1));
    if (options?.reverse) this.#items.reverse();
  }
  clear(_caller: Caller): void {
    this.#items = [];
  }
  copy(_caller: Caller): unknown[] {
    return [...this.#items];
  }
  slice(_caller: Caller, start?: number, end?: number): unknown[] {
    return this.#items.slice(start, end);
  }
  len(_caller: Caller): number {
    return this.#items.length;
  }
}

export class NamespaceObject implements Served {
  readonly exposed = exposed('__getattr__', '__setattr__', '__delattr__', 'copy');
  readonly #attributes = new Map<string, unknown>();

  constructor(init?: unknown) {
    for (const [k, v] of Object.entries((init ?? {}) as Record<string, unknown>)) this.#attributes.set(k, v);
  }
  __getattr__(_caller: Caller, name: unknown): unknown {
    if (!this.#attributes.has(String(name))) throw new AttributeError(`'Namespace' object has no attribute '${String(name)}'`);
    return this.#attributes.get(String(name));
  }
  __setattr__(_caller: Caller, name: unknown, value: unknown): void {
    this.#attributes.set(String(name), value);
  }
  __delattr__(_caller: Caller, name: unknown): void {
    this.#attributes.delete(String(name));
  }
  copy(_caller: Caller): Record<string, unknown> {
    return Object.fromEntries(this.#attributes);
  }
}

export class ValueObject implements Served {
  readonly exposed = exposed('get', 'set');
  #value: unknown;
  constructor(_typecode: unknown, value: unknown) {
    this.#value = value;
  }
  get(_caller: Caller): unknown {
    return this.#value;
  }
  set(_caller: Caller, value: unknown): void {
    this.#value = value;
  }
}

export class ArrayObject implements Served {
  readonly exposed = exposed('get', 'set', 'len', 'copy', 'slice');
  readonly #items: unknown[];
  constructor(_typecode: unknown, sizeOrInit: unknown) {
    this.#items = typeof sizeOrInit === 'number' ? new Array<unknown>(sizeOrInit).fill(0) : Array.isArray(sizeOrInit) ? [...(sizeOrInit as unknown[])] : [];
  }
  get(_caller: Caller, i: unknown): unknown {
    return this.#items[normalizeIndex(i, this.#items.length)];
  }
  set(_caller: Caller, i: unknown, value: unknown): void {
    this.#items[normalizeIndex(i, this.#items.length)] = value;
  }
  len(_caller: Caller): number {
    return this.#items.length;
  }
  copy(_caller: Caller): unknown[] {
    return [...this.#items];
  }
  slice(_caller: Caller, start?: number, end?: number): unknown[] {
    return this.#items.slice(start, end);
  }
}

export class LockObject implements Served {
  readonly exposed = exposed('acquire', 'release', 'locked');
  #owner: string | undefined;
  #count = 0;
  /**
   * A plain Lock whose holder's connection went while nobody waited: still locked, as Python's (any process may
   * release it, as threading.Lock allows), but the next acquire() takes it at once, since its holder is gone.
   */
  #orphaned = false;
  readonly #waiters = new WaitList();

  constructor(readonly recursive = false) {}

  async acquire(caller: Caller, options: unknown): Promise<boolean> {
    const { block, deadline } = waitOptions(options, this.recursive ? 'RLock.acquire' : 'Lock.acquire');
    for (;;) {
      if (this.#owner === undefined || this.#orphaned) {
        this.#orphaned = false;
        this.#owner = caller.owner;
        this.#count = 1;
        return true;
      }
      if (this.recursive && this.#owner === caller.owner) {
        this.#count++;
        return true;
      }
      if (!block || caller.signal.aborted) return false;
      if (!(await this.#waiters.wait(remaining(deadline), caller.signal))) return false;
    }
  }

  release(caller: Caller): void {
    if (this.#owner === undefined) throw new RuntimeError(this.recursive ? 'cannot release un-acquired lock' : 'release unlocked lock');
    if (this.recursive && this.#owner !== caller.owner) throw new RuntimeError('cannot release un-acquired lock');
    if (this.recursive && --this.#count > 0) return;
    this.#owner = undefined;
    this.#orphaned = false;
    this.#count = 0;
    this.#waiters.wakeOne();
  }

  locked(_caller: Caller): boolean {
    return this.#owner !== undefined;
  }

  /** Lets a Condition drop and restore a recursive hold whole. */
  saveAndRelease(caller: Caller): number {
    if (this.#owner !== caller.owner) throw new RuntimeError('cannot wait on un-acquired lock');
    const count = this.#count;
    this.#owner = undefined;
    this.#count = 0;
    this.#waiters.wakeOne();
    return count;
  }

  async restore(count: number, caller: Caller): Promise<void> {
    await this.acquire(caller, undefined);
    this.#count = count;
  }

  isOwnedBy(owner: string): boolean {
    return this.#owner === owner;
  }

  dropOwner(owner: string): void {
    if (this.#owner !== owner) return;
    // Nobody waits for a plain Lock: it stays locked for a release() from another process (a hand-off, as Python).
    if (!this.recursive && this.#waiters.size === 0) {
      this.#orphaned = true;
      return;
    }
    this.#owner = undefined;
    this.#count = 0;
    this.#waiters.wakeOne();
  }
}

export class SemaphoreObject implements Served {
  readonly exposed = exposed('acquire', 'release', 'getValue');
  #value: number;
  readonly #initial: number;
  readonly #waiters = new WaitList();

  constructor(
    value: unknown = 1,
    readonly bounded = false,
  ) {
    if (typeof value !== 'number' || value < 0) throw new ValueError('semaphore initial value must be >= 0');
    this.#value = value;
    this.#initial = value;
  }

  async acquire(caller: Caller, options: unknown): Promise<boolean> {
    const { block, deadline } = waitOptions(options, 'Semaphore.acquire');
    for (;;) {
      if (this.#value > 0) {
        this.#value--;
        return true;
      }
      if (!block) return false;
      if (!(await this.#waiters.wait(remaining(deadline), caller.signal))) return false;
    }
  }

  release(_caller: Caller, n: unknown = 1): void {
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError('Semaphore.release(n): n must be an integer');
    if (n < 1) throw new ValueError('n must be one or more');
    const count = n;
    if (this.bounded && this.#value + count > this.#initial) throw new ValueError('Semaphore released too many times');
    this.#value += count;
    for (let i = 0; i < count; i++) this.#waiters.wakeOne();
  }

  getValue(_caller: Caller): number {
    return this.#value;
  }
}

export class EventObject implements Served {
  readonly exposed = exposed('set', 'clear', 'isSet', 'wait');
  #flag = false;
  readonly #waiters = new WaitList();

  set(_caller: Caller): void {
    this.#flag = true;
    this.#waiters.wakeAll();
  }
  clear(_caller: Caller): void {
    this.#flag = false;
  }
  isSet(_caller: Caller): boolean {
    return this.#flag;
  }
  async wait(caller: Caller, options: unknown): Promise<boolean> {
    const { deadline } = waitOptions(options, 'Event.wait', true);
    if (this.#flag) return true;
    await this.#waiters.wait(remaining(deadline), caller.signal);
    return this.#flag;
  }
}

export class ConditionObject implements Served {
  readonly exposed = exposed('acquire', 'release', 'wait', 'notify', 'notifyAll');
  readonly #lock: LockObject;
  readonly #waiters = new WaitList();

  constructor(lock?: LockObject) {
    this.#lock = lock ?? new LockObject(true);
  }
  acquire(caller: Caller, options: unknown): Promise<boolean> {
    return this.#lock.acquire(caller, options);
  }
  release(caller: Caller): void {
    this.#lock.release(caller);
  }
  async wait(caller: Caller, options: unknown): Promise<boolean> {
    const { deadline } = waitOptions(options, 'Condition.wait', true);
    const count = this.#lock.saveAndRelease(caller);
    try {
      return await this.#waiters.wait(remaining(deadline), caller.signal);
    } finally {
      if (!caller.signal.aborted) await this.#lock.restore(count, caller);
    }
  }
  notify(caller: Caller, n: unknown = 1): void {
    if (typeof n !== 'number' || Number.isNaN(n)) throw new TypeError('Condition.notify(n): n must be a number');
    if (!this.#lock.isOwnedBy(caller.owner)) throw new RuntimeError('cannot notify on un-acquired lock');
    for (let i = 0; i < n; i++) if (!this.#waiters.wakeOne()) break;
  }
  notifyAll(caller: Caller): void {
    if (!this.#lock.isOwnedBy(caller.owner)) throw new RuntimeError('cannot notify on un-acquired lock');
    this.#waiters.wakeAll();
  }
  dropOwner(owner: string): void {
    this.#lock.dropOwner(owner);
  }
}

export class BarrierObject implements Served {
  readonly exposed = exposed('wait', 'abort', 'reset', 'parties', 'nWaiting', 'broken');
  readonly #parties: number;
  readonly #timeout: number | undefined;
  /**
   * The current pass. A waiter keeps the one it joined: it passes when a new one began by the last party's
   * arrival, and raises BrokenBarrierError when abort() or reset() broke its own, even if a reset has already
   * begun a fresh one by the time its wake-up runs (Python: the "resetting" state its waiters see).
   */
  #generation = { broken: false };
  #count = 0;
  #broken = false;
  readonly #waiters = new WaitList();

  constructor(parties: number, timeout: number | undefined) {
    if (parties < 1) throw new ValueError('parties must be >= 1');
    this.#parties = parties;
    this.#timeout = timeout;
  }

  async wait(caller: Caller, options: unknown): Promise<number> {
    const timeout = readTimeout(options, 'Barrier.wait', true) ?? this.#timeout;
    if (this.#broken) throw new BrokenBarrierError();
    const index = this.#count++;
    const generation = this.#generation;
    if (this.#count === this.#parties) {
      this.#generation = { broken: false };
      this.#count = 0;
      this.#waiters.wakeAll();
      return index;
    }
    const deadline = timeout === undefined ? undefined : Date.now() + timeout;
    while (generation === this.#generation && !this.#broken) {
      const woken = await this.#waiters.wait(remaining(deadline), caller.signal);
      if (!woken && generation === this.#generation) {
        this.abort(caller);
        break;
      }
    }
    if (generation.broken || generation === this.#generation) throw new BrokenBarrierError();
    return index;
  }
  abort(_caller: Caller): void {
    this.#broken = true;
    this.#generation.broken = true;
    this.#count = 0;
    this.#waiters.wakeAll();
  }
  reset(_caller: Caller): void {
    if (this.#count > 0) {
      this.#generation.broken = true;
      this.#waiters.wakeAll();
    }
    this.#generation = { broken: false };
    this.#count = 0;
    this.#broken = false;
  }
  parties(_caller: Caller): number {
    return this.#parties;
  }
  nWaiting(_caller: Caller): number {
    return this.#count;
  }
  broken(_caller: Caller): boolean {
    return this.#broken;
  }
}

export class QueueObject implements Served {
  readonly exposed = exposed('put', 'get', 'putNowait', 'getNowait', 'qsize', 'empty', 'full', 'taskDone', 'join');
  readonly #items: unknown[] = [];
  readonly #maxsize: number;
  readonly #getters = new WaitList();
  readonly #putters = new WaitList();
  readonly #joiners = new WaitList();
  #unfinished = 0;

  constructor(
    maxsize: number,
    readonly joinable = false,
  ) {
    this.#maxsize = maxsize > 0 ? maxsize : 0;
  }

  async put(caller: Caller, item: unknown, options: unknown): Promise<void> {
    const { block, deadline } = waitOptions(options, 'Queue.put');
    while (this.full(caller)) {
      if (!block) throw new Full();
      if (!(await this.#putters.wait(remaining(deadline), caller.signal))) throw new Full();
    }
    this.#items.push(item);
    this.#unfinished++;
    this.#getters.wakeOne();
  }

  async get(caller: Caller, options: unknown): Promise<unknown> {
    const { block, deadline } = waitOptions(options, 'Queue.get');
    while (this.#items.length === 0) {
      if (!block) throw new Empty();
      if (!(await this.#getters.wait(remaining(deadline), caller.signal))) throw new Empty();
    }
    // A caller whose connection went is not handed an item it could never receive.
    if (caller.signal.aborted) throw new Empty();
    const item = this.#items.shift();
    this.#putters.wakeOne();
    return item;
  }

  putNowait(caller: Caller, item: unknown): Promise<void> {
    return this.put(caller, item, { block: false });
  }
  getNowait(caller: Caller): Promise<unknown> {
    return this.get(caller, { block: false });
  }
  qsize(_caller: Caller): number {
    return this.#items.length;
  }
  empty(_caller: Caller): boolean {
    return this.#items.length === 0;
  }
  full(_caller: Caller): boolean {
    return this.#maxsize > 0 && this.#items.length >= this.#maxsize;
  }
  taskDone(_caller: Caller): void {
    if (!this.joinable) throw new TypeError("'Queue' has no taskDone(): use a JoinableQueue");
    if (this.#unfinished <= 0) throw new ValueError('task_done() called too many times');
    if (--this.#unfinished === 0) this.#joiners.wakeAll();
  }
  async join(caller: Caller): Promise<void> {
    if (!this.joinable) throw new TypeError("'Queue' has no join(): use a JoinableQueue");
    while (this.#unfinished > 0) await this.#joiners.wait(undefined, caller.signal);
  }
}
