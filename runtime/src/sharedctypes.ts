// Value, Array (SharedArray), RawValue, RawArray: Python's multiprocessing.sharedctypes over real
// shared memory (shm/arena.ts). `.value` and indexes read and write the memory itself, synchronously;
// a child maps the same pages, so no message carries a write. Node's modules only.
import { inspect } from 'node:util';
import { reduceSymbol, registerReviver, reviveObject, isReducible, type ReducedObject, type TransferContext } from './reduction';
import { IndexError } from './errors';
import { objectCreated } from './telemetry';
import { allocate, reduceBlock, reviveBlock, type Block, type BlockDescriptor } from './shm/arena';
import { ShmLock, type AcquireOptions } from './shm/lock';

/** Python's array/ctypes typecodes: `l`/`L` are C long (64-bit, as on Linux), `c` a byte, `u` a wchar_t. */
export type Typecode = 'b' | 'B' | 'h' | 'H' | 'i' | 'I' | 'l' | 'L' | 'q' | 'Q' | 'f' | 'd' | 'c' | 'u';
/** What `.value` and indexes give for a typecode: characters for `c`/`u`, numbers otherwise. */
export type ElementOf<C extends Typecode> = C extends 'c' | 'u' ? string : number;

type View = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;
type ViewClass = { new (buffer: SharedArrayBuffer, offset: number, length: number): View; BYTES_PER_ELEMENT: number };

interface Codec {
  View: ViewClass;
  read(view: View, i: number): number | string;
  write(view: View, i: number, value: unknown): void;
}

function numeric(View: ViewClass): Codec {
  return {
    View,
    read: (view, i) => view[i] as number,
    write: (view, i, value) => {
      (view as Int32Array)[i] = typeof value === 'bigint' ? Number(value) : (value as number);
    },
  };
}

function big(View: ViewClass, signed: boolean): Codec {
  return {
    View,
    read: (view, i) => Number(view[i] as bigint),
    write: (view, i, value) => {
      const n = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
      (view as BigInt64Array)[i] = signed ? BigInt.asIntN(64, n) : BigInt.asUintN(64, n);
    },
  };
}

function char(View: ViewClass): Codec {
  return {
    View,
    read: (view, i) => String.fromCodePoint(view[i] as number),
    write: (view, i, value) => {
      (view as Uint32Array)[i] = typeof value === 'number' ? value : (String(value).codePointAt(0) ?? 0);
    },
  };
}

const codecs: Record<Typecode, Codec> = {
  b: numeric(Int8Array),
  B: numeric(Uint8Array),
  h: numeric(Int16Array),
  H: numeric(Uint16Array),
  i: numeric(Int32Array),
  I: numeric(Uint32Array),
  l: big(BigInt64Array, true),
  L: big(BigUint64Array, false),
  q: big(BigInt64Array, true),
  Q: big(BigUint64Array, false),
  f: numeric(Float32Array),
  d: numeric(Float64Array),
  c: char(Uint8Array),
  u: char(Uint32Array),
};

function codecOf(typecode: string): Codec {
  const codec = (codecs as Record<string, Codec | undefined>)[typecode];
  if (!codec || !Object.hasOwn(codecs, typecode)) throw new TypeError(`bad typecode ${JSON.stringify(typecode)} (must be one of ${Object.keys(codecs).join(' ')})`);
  return codec;
}

/** The lock a synchronized object uses: forkscope's own locks, or anything with acquire/release. */
export interface SharedObjectLock {
  acquire(options?: AcquireOptions): Promise<boolean>;
  release(): void;
}

export interface SynchronizedOptions {
  /** `true` (default) makes a new RLock in shared memory, `false` none; or pass a Lock/RLock to use. @default true */
  lock?: boolean | SharedObjectLock;
}

function makeLock(option: SynchronizedOptions['lock']): SharedObjectLock | undefined {
  if (option === false) return undefined;
  if (option === undefined || option === true) return new ShmLock({ recursive: true });
  if (typeof option.acquire !== 'function' || typeof option.release !== 'function') throw new TypeError("'lock' must be a boolean or an object with acquire() and release()");
  return option;
}

function reduceLock(lock: SharedObjectLock | undefined, context: TransferContext): ReducedObject | null {
  if (!lock) return null;
  if (isReducible(lock)) return lock[reduceSymbol](context);
  throw new TypeError('the lock of this shared object cannot cross into another process or thread');
}

function viewOf(codec: Codec, block: Block, length: number): View {
  return new codec.View(block.buffer, block.offset, length);
}

interface SharedState {
  typecode: Typecode;
  block: BlockDescriptor;
  length: number;
  lock: ReducedObject | null;
  synchronized: boolean;
}

/** A single C value in shared memory, without a lock. Python: multiprocessing.RawValue */
export class RawValue<C extends Typecode = Typecode> {
  readonly #typecode: C;
  readonly #codec: Codec;
  readonly #block: Block;
  readonly #view: View;

  constructor(typecode: C, init?: ElementOf<C> | number | bigint, internal?: { block: Block }) {
    this.#typecode = typecode;
    this.#codec = codecOf(typecode);
    this.#block = internal?.block ?? allocate(this.#codec.View.BYTES_PER_ELEMENT);
    this.#view = viewOf(this.#codec, this.#block, 1);
    if (!internal && init !== undefined) this.#codec.write(this.#view, 0, init);
    if (!internal) objectCreated('Value');
  }

  /** The value, read from or written to shared memory at once. */
  get value(): ElementOf<C> {
    return this.#codec.read(this.#view, 0) as ElementOf<C>;
  }

  set value(value: ElementOf<C> | number | bigint) {
    this.#codec.write(this.#view, 0, value);
  }

  /** The typecode it was made with. */
  get typecode(): C {
    return this.#typecode;
  }

  /** The raw one-element typed array over the shared memory (Atomics work on integer codes). */
  getObj(): View {
    return this.#view;
  }

  protected reduceState(context: TransferContext, lock: SharedObjectLock | undefined, synchronized: boolean): SharedState {
    return { typecode: this.#typecode, block: reduceBlock(this.#block, context.startMethod, 'Value'), length: 1, lock: reduceLock(lock, context), synchronized };
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    return { kind: 'forkscope.Value', state: this.reduceState(context, undefined, false) };
  }

  [inspect.custom](): string {
    return `${this.constructor.name}(${JSON.stringify(this.#typecode)}, ${inspect(this.value)})`;
  }
}

/** A C value in shared memory guarded by a lock (an RLock unless told otherwise). Python: multiprocessing.Value */
export class Value<C extends Typecode = Typecode> extends RawValue<C> {
  readonly #lock: SharedObjectLock | undefined;

  constructor(typecode: C, init?: ElementOf<C> | number | bigint, options: SynchronizedOptions = {}, internal?: { block: Block; lock?: SharedObjectLock }) {
    super(typecode, init, internal);
    this.#lock = internal ? internal.lock : makeLock(options.lock);
  }

  /** The lock guarding read-modify-write sequences such as `v.value += 1`. Python: Value.get_lock() */
  getLock(): SharedObjectLock {
    if (!this.#lock) throw new TypeError('this Value was made with { lock: false } and has no lock');
    return this.#lock;
  }

  /** Takes the lock. Python: Value.acquire() */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.getLock().acquire(options);
  }

  /** Releases the lock. Python: Value.release() */
  release(): void {
    this.getLock().release();
  }

  override [reduceSymbol](context: TransferContext): ReducedObject {
    return { kind: 'forkscope.Value', state: this.reduceState(context, this.#lock, true) };
  }
}

registerReviver('forkscope.Value', (state) => {
  const s = state as SharedState;
  const block = reviveBlock(s.block);
  if (!s.synchronized) return new RawValue(s.typecode, undefined, { block });
  return new Value(s.typecode, undefined, {}, { block, lock: s.lock ? (reviveObject(s.lock) as SharedObjectLock) : undefined });
});

const INDEX = /^-?(0|[1-9]\d*)$/;
// Methods run on the proxy's target (where #private fields live); the subclass constructor sees the proxy.
const targets = new WeakMap<object, object>();
const arrayLocks = new WeakMap<object, SharedObjectLock | undefined>();

/** The proxy handler that turns `arr[i]` into a shared-memory read or write. */
const indexing: ProxyHandler<RawArray> = {
  get(target, key, _receiver) {
    if (typeof key === 'string' && INDEX.test(key)) return target.getItem(Number(key));
    const value = Reflect.get(target, key, target) as unknown;
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  },
  set(target, key, value, _receiver) {
    if (typeof key === 'string' && INDEX.test(key)) {
      target.setItem(Number(key), value);
      return true;
    }
    return Reflect.set(target, key, value, target);
  },
  has(target, key) {
    if (typeof key === 'string' && INDEX.test(key)) {
      const i = Number(key);
      return i >= 0 && i < target.length;
    }
    return Reflect.has(target, key);
  },
};

/** A C array in shared memory without a lock; `arr[i]` reads and writes it. Python: multiprocessing.RawArray */
export class RawArray<C extends Typecode = Typecode> {
  readonly #typecode: C;
  readonly #codec: Codec;
  readonly #block: Block;
  readonly #view: View;
  [index: number]: ElementOf<C>;

  constructor(typecode: C, sizeOrInit: number | Iterable<ElementOf<C> | number | bigint> | string, internal?: { block: Block; length: number }) {
    this.#typecode = typecode;
    this.#codec = codecOf(typecode);
    const init = typeof sizeOrInit === 'number' ? undefined : typeof sizeOrInit === 'string' ? [...sizeOrInit] : [...sizeOrInit];
    const length = internal?.length ?? (init ? init.length : sizeOrInit as number);
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`an array's size must be a non-negative integer, not ${String(sizeOrInit)}`);
    this.#block = internal?.block ?? allocate(Math.max(1, length) * this.#codec.View.BYTES_PER_ELEMENT);
    this.#view = viewOf(this.#codec, this.#block, length);
    if (init) init.forEach((value, i) => this.#codec.write(this.#view, i, value));
    if (!internal) objectCreated('Array', { capacity: length });
    const proxy = new Proxy(this, indexing as ProxyHandler<this>);
    targets.set(proxy, this);
    return proxy;
  }

  /** How many elements it holds. */
  get length(): number {
    return this.#view.length;
  }

  /** The typecode it was made with. */
  get typecode(): C {
    return this.#typecode;
  }

  /** Reads element `i` (negative counts from the end). Python: arr[i] */
  getItem(i: number): ElementOf<C> {
    return this.#codec.read(this.#view, this.#index(i)) as ElementOf<C>;
  }

  /** Writes element `i` (negative counts from the end). Python: arr[i] = v */
  setItem(i: number, value: unknown): void {
    this.#codec.write(this.#view, this.#index(i), value);
  }

  #index(i: number): number {
    const n = this.#view.length;
    const at = i < 0 ? i + n : i;
    if (!Number.isInteger(at) || at < 0 || at >= n) throw new IndexError('invalid index');
    return at;
  }

  /** Elements `start` to `end` as a plain array. Python: arr[start:end] */
  slice(start?: number, end?: number): ElementOf<C>[] {
    return this.toArray().slice(start, end);
  }

  /** Writes `values` from element `offset` on. Python: arr[offset:offset+len(values)] = values */
  set(values: Iterable<ElementOf<C> | number | bigint>, offset = 0): void {
    let i = offset;
    for (const value of values) this.setItem(i++, value);
  }

  /** Every element as a plain array. Python: list(arr) / arr[:] */
  toArray(): ElementOf<C>[] {
    const out: ElementOf<C>[] = [];
    for (let i = 0; i < this.#view.length; i++) out.push(this.#codec.read(this.#view, i) as ElementOf<C>);
    return out;
  }

  *[Symbol.iterator](): IterableIterator<ElementOf<C>> {
    for (let i = 0; i < this.#view.length; i++) yield this.#codec.read(this.#view, i) as ElementOf<C>;
  }

  /** The typed array over the shared memory: the fastest access, and Atomics on integer codes. */
  getObj(): View {
    return this.#view;
  }

  /** For `c` and `u` arrays: the text up to the first NUL. Python: arr.value */
  get value(): string {
    if (this.#typecode !== 'c' && this.#typecode !== 'u') throw new TypeError(`only 'c' and 'u' arrays have .value`);
    let text = '';
    for (let i = 0; i < this.#view.length; i++) {
      const code = this.#view[i] as number;
      if (code === 0) break;
      text += String.fromCodePoint(code);
    }
    return text;
  }

  set value(text: string) {
    if (this.#typecode !== 'c' && this.#typecode !== 'u') throw new TypeError(`only 'c' and 'u' arrays have .value`);
    const chars = this.#typecode === 'c' ? [...Buffer.from(text, 'latin1')] : [...text].map((c) => c.codePointAt(0)!);
    if (chars.length > this.#view.length) throw new RangeError('string too long');
    chars.forEach((code, i) => ((this.#view as Uint32Array)[i] = code));
    if (chars.length < this.#view.length) (this.#view as Uint32Array)[chars.length] = 0;
  }

  /** For `c` arrays: the bytes themselves, sharing the memory. Python: arr.raw */
  get raw(): Buffer {
    if (this.#typecode !== 'c') throw new TypeError(`only 'c' arrays have .raw`);
    return Buffer.from(this.#block.buffer, this.#block.offset, this.#view.length);
  }

  protected reduceState(context: TransferContext, lock: SharedObjectLock | undefined, synchronized: boolean): SharedState {
    return { typecode: this.#typecode, block: reduceBlock(this.#block, context.startMethod, 'Array'), length: this.#view.length, lock: reduceLock(lock, context), synchronized };
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    return { kind: 'forkscope.Array', state: this.reduceState(context, undefined, false) };
  }

  [inspect.custom](): string {
    return `${this.constructor.name === 'SharedArray' ? 'Array' : this.constructor.name}(${JSON.stringify(this.#typecode)}, ${inspect(this.toArray())})`;
  }
}

/** A C array in shared memory guarded by a lock; `arr[i]` reads and writes it. Python: multiprocessing.Array */
export class SharedArray<C extends Typecode = Typecode> extends RawArray<C> {

  constructor(typecode: C, sizeOrInit: number | Iterable<ElementOf<C> | number | bigint> | string, options: SynchronizedOptions = {}, internal?: { block: Block; length: number; lock?: SharedObjectLock }) {
    super(typecode, sizeOrInit, internal);
    // super() returned the indexing proxy, so the lock is kept beside its target, not in a #field.
    arrayLocks.set(targets.get(this) ?? this, internal ? internal.lock : makeLock(options.lock));
  }

  /** The lock guarding compound updates such as `arr[i] += 1`. Python: Array.get_lock() */
  getLock(): SharedObjectLock {
    const lock = arrayLocks.get(targets.get(this) ?? this);
    if (!lock) throw new TypeError('this Array was made with { lock: false } and has no lock');
    return lock;
  }

  /** Takes the lock. Python: Array.acquire() */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.getLock().acquire(options);
  }

  /** Releases the lock. Python: Array.release() */
  release(): void {
    this.getLock().release();
  }

  override [reduceSymbol](context: TransferContext): ReducedObject {
    return { kind: 'forkscope.Array', state: this.reduceState(context, arrayLocks.get(targets.get(this) ?? this), true) };
  }
}

registerReviver('forkscope.Array', (state) => {
  const s = state as SharedState;
  const block = reviveBlock(s.block);
  if (!s.synchronized) return new RawArray(s.typecode, s.length, { block, length: s.length });
  return new SharedArray(s.typecode, s.length, {}, { block, length: s.length, lock: s.lock ? (reviveObject(s.lock) as SharedObjectLock) : undefined });
});

export { SharedArray as Array };
