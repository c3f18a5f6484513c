// Value, Array (SharedArray), RawValue, RawArray: Python's multiprocessing.sharedctypes over real
// shared memory (shm/arena.ts). `.value` and indexes read and write the memory itself, synchronously;
// a child maps the same pages, so no message carries a write. Node's modules only.
import { inspect } from 'node:util';
import { reduceSymbol, registerReviver, reviveObject, isReducible, type ReducedObject, type TransferContext } from './reduction';
import { IndexError, MemoryError, ValueError } from './errors';
import { objectCreated } from './telemetry';
import { allocate, reduceBlock, reviveBlock, type Block, type BlockDescriptor } from './shm/arena';
import { ShmLock, type AcquireOptions } from './shm/lock';
import { MAX_MAPPING } from './shm/binding';

/** Python's array/ctypes typecodes: `l`/`L` are C long (64-bit, as on Linux), `c` a byte, `u` a wchar_t. */
export type Typecode = 'b' | 'B' | 'h' | 'H' | 'i' | 'I' | 'l' | 'L' | 'q' | 'Q' | 'f' | 'd' | 'c' | 'u';
/** A C struct's fields, name to typecode, laid out in this order with C's alignment. */
export type StructFields = Readonly<Record<string, Typecode>>;
/** A struct read from shared memory: each field reads and writes the memory itself. */
export type StructOf<F extends StructFields> = { -readonly [K in keyof F]: ElementOf<F[K]> };

/** A C struct type made by `Structure()`, for `Value` and `Array`. Python: a ctypes.Structure subclass */
export interface StructType<F extends StructFields = StructFields> {
  /** Its name, as `Structure(fields, name)` gave it. */
  readonly name: string;
  /** The fields in layout order. */
  readonly fields: F;
  /** Its size in bytes, padding included. Python: ctypes.sizeof(Point) */
  readonly size: number;
}

/** A typecode or a `Structure()`: what `Value` and `Array` hold. */
export type SharedType = Typecode | StructType;
/** What `.value` and indexes give: characters for `c`/`u`, a live struct for a Structure, numbers otherwise. */
export type ElementOf<C extends SharedType> = C extends StructType<infer F> ? StructOf<F> : C extends 'c' | 'u' ? string : number;
/** What may be written: a struct takes its fields as an object or, as Python's tuples, an array in field order. */
export type InitOf<C extends SharedType> =
  C extends StructType<infer F> ? Partial<StructOf<F>> | ReadonlyArray<ElementOf<F[keyof F]>> : ElementOf<C> | number | bigint;

type View = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;
type ViewClass = { new (buffer: SharedArrayBuffer, offset: number, length: number): View; BYTES_PER_ELEMENT: number };

interface Codec {
  View: ViewClass;
  read(view: View, i: number): number | string;
  /** Writes `value` after checking it the way ctypes does; throws TypeError naming the typecode. */
  write(view: View, i: number, value: unknown, typecode: Typecode): void;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (value === null) return 'null';
  return typeof value === 'object' ? `a ${value.constructor?.name ?? 'object'}` : `a ${typeof value}`;
}

/** ctypes takes an int (bool included) for integer codes and wraps it to the C type's width. */
function integer(value: unknown, typecode: Typecode): number | bigint {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return value;
  throw new TypeError(`typecode '${typecode}' takes an integer, not ${describe(value)}`);
}

/** ctypes takes any real number (an int, a bool) for 'f' and 'd'. */
function real(value: unknown, typecode: Typecode): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`typecode '${typecode}' takes a real number, not ${describe(value)}`);
}

function numeric(View: ViewClass, isFloat: boolean): Codec {
  const bits = View.BYTES_PER_ELEMENT * 8;
  return {
    View,
    read: (view, i) => view[i] as number,
    write: (view, i, value, typecode) => {
      if (isFloat) {
        (view as Float64Array)[i] = real(value, typecode);
        return;
      }
      const n = integer(value, typecode);
      (view as Int32Array)[i] = typeof n === 'bigint' ? Number(BigInt.asIntN(bits, n)) : n;
    },
  };
}

function big(View: ViewClass, signed: boolean): Codec {
  return {
    View,
    read: (view, i) => Number(view[i] as bigint),
    write: (view, i, value, typecode) => {
      const n = integer(value, typecode);
      const b = typeof n === 'bigint' ? n : BigInt(n);
      (view as BigInt64Array)[i] = signed ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b);
    },
  };
}

/** 'c' takes one byte as ctypes does: a one-character string (code < 256), a 1-byte Buffer, or 0-255. */
function byteOf(value: unknown): number {
  if (typeof value === 'string' && value.length === 1 && value.charCodeAt(0) < 256) return value.charCodeAt(0);
  if (value instanceof Uint8Array && value.length === 1) return value[0]!;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 256) return value;
  throw new TypeError(`typecode 'c' takes one byte (a one-character string, a 1-byte Buffer or an integer 0-255), not ${describe(value)}`);
}

/** 'u' takes one character, as ctypes' c_wchar does. */
function charOf(value: unknown): number {
  if (typeof value === 'string' && value.length > 0 && [...value].length === 1) return value.codePointAt(0)!;
  throw new TypeError(`typecode 'u' takes a one-character string, not ${describe(value)}`);
}

function char(View: ViewClass, code: (value: unknown) => number): Codec {
  return {
    View,
    read: (view, i) => String.fromCodePoint(view[i] as number),
    write: (view, i, value) => {
      (view as Uint32Array)[i] = code(value);
    },
  };
}

const codecs: Record<Typecode, Codec> = {
  b: numeric(Int8Array, false),
  B: numeric(Uint8Array, false),
  h: numeric(Int16Array, false),
  H: numeric(Uint16Array, false),
  i: numeric(Int32Array, false),
  I: numeric(Uint32Array, false),
  l: big(BigInt64Array, true),
  L: big(BigUint64Array, false),
  q: big(BigInt64Array, true),
  Q: big(BigUint64Array, false),
  f: numeric(Float32Array, true),
  d: numeric(Float64Array, true),
  c: char(Uint8Array, byteOf),
  u: char(Uint32Array, charOf),
};

function codecOf(typecode: string): Codec {
  const codec = (codecs as Record<string, Codec | undefined>)[typecode];
  if (!codec || !Object.hasOwn(codecs, typecode))
    throw new TypeError(`bad typecode ${JSON.stringify(typecode)} (must be one of ${Object.keys(codecs).join(' ')})`);
  return codec;
}

/** A struct type's layout: each field at an offset aligned to its own size, as a C compiler lays it out. */
interface StructLayout {
  fields: { name: string; typecode: Typecode; codec: Codec; offset: number }[];
  size: number;
}

const layouts = new WeakMap<StructType, StructLayout>();

/**
 * Makes a C struct type for shared memory: `Value(Point, { x: 1, y: 2 })` or `Array(Point, n)`.
 * Python: class Point(ctypes.Structure): _fields_ = [('x', c_double), ('y', c_double)]
 */
export function Structure<const F extends StructFields>(fields: F, name = 'Structure'): StructType<F> {
  if (typeof fields !== 'object' || fields === null) throw new TypeError('Structure() takes an object of field names to typecodes');
  const entries = Object.entries(fields);
  if (entries.length === 0) throw new TypeError('a Structure needs at least one field');
  let offset = 0;
  let align = 1;
  const laid: StructLayout['fields'] = [];
  for (const [field, typecode] of entries) {
    if (field === '__proto__' || field === 'constructor' || field === 'toJSON')
      throw new TypeError(`a Structure field cannot be named ${JSON.stringify(field)}`);
    const codec = codecOf(typecode);
    const bytes = codec.View.BYTES_PER_ELEMENT;
    offset = Math.ceil(offset / bytes) * bytes;
    laid.push({ name: field, typecode, codec, offset });
    offset += bytes;
    align = Math.max(align, bytes);
  }
  const size = Math.ceil(offset / align) * align;
  const type: StructType<F> = Object.freeze({ name, fields: Object.freeze({ ...fields }), size });
  layouts.set(type, { fields: laid, size });
  return type;
}

function layoutOf(type: StructType): StructLayout {
  const layout = layouts.get(type);
  if (!layout) throw new TypeError('a struct type must be made by Structure()');
  return layout;
}

function isStruct(type: SharedType): type is StructType {
  return typeof type === 'object' && type !== null;
}

/** Elements of one type over a block: how Value (one element) and Array (n) read and write it. */
interface Cells {
  readonly bytesPerElement: number;
  read(i: number): unknown;
  write(i: number, value: unknown): void;
  /** The typed array over the memory (simple types), for getObj() and Atomics. */
  readonly view: View | undefined;
}

function elementSize(type: SharedType): number {
  return isStruct(type) ? layoutOf(type).size : codecOf(type).View.BYTES_PER_ELEMENT;
}

function simpleCells(typecode: Typecode, block: Block, count: number): Cells {
  const codec = codecOf(typecode);
  const view = new codec.View(block.buffer, block.offset, count);
  return { bytesPerElement: codec.View.BYTES_PER_ELEMENT, view, read: (i) => codec.read(view, i), write: (i, value) => codec.write(view, i, value, typecode) };
}

const BASE = Symbol('forkscope.struct.base');

function structCells(type: StructType, block: Block, count: number): Cells {
  const layout = layoutOf(type);
  // One typed array per field type over the whole block; a field is one element of it.
  const fields = layout.fields.map((f) => {
    const bytes = f.codec.View.BYTES_PER_ELEMENT;
    return { ...f, view: new f.codec.View(block.buffer, block.offset, (count * layout.size) / bytes), step: layout.size / bytes, at: f.offset / bytes };
  });
  const proto: Record<PropertyKey, unknown> = {};
  for (const f of fields) {
    Object.defineProperty(proto, f.name, {
      enumerable: true,
      get(this: { [BASE]: number }) {
        return f.codec.read(f.view, this[BASE] * f.step + f.at);
      },
      set(this: { [BASE]: number }, value: unknown) {
        f.codec.write(f.view, this[BASE] * f.step + f.at, value, f.typecode);
      },
    });
  }
  const snapshot = (base: number) => Object.fromEntries(fields.map((f) => [f.name, f.codec.read(f.view, base * f.step + f.at)]));
  Object.defineProperty(proto, 'toJSON', {
    value(this: { [BASE]: number }) {
      return snapshot(this[BASE]);
    },
  });
  Object.defineProperty(proto, inspect.custom, {
    value(this: { [BASE]: number }) {
      return `${type.name}(${inspect(snapshot(this[BASE]))})`;
    },
  });
  const write = (i: number, value: unknown) => {
    if (Array.isArray(value)) {
      if (value.length > fields.length) throw new TypeError(`${type.name} has ${fields.length} fields, not ${value.length}`);
      value.forEach((v: unknown, k) => fields[k]!.codec.write(fields[k]!.view, i * fields[k]!.step + fields[k]!.at, v, fields[k]!.typecode));
      return;
    }
    if (typeof value !== 'object' || value === null)
      throw new TypeError(`a ${type.name} takes an object of its fields or an array in field order, not ${describe(value)}`);
    for (const key of Object.keys(value)) if (!fields.some((f) => f.name === key)) throw new TypeError(`${type.name} has no field ${JSON.stringify(key)}`);
    for (const f of fields) if (f.name in value) f.codec.write(f.view, i * f.step + f.at, (value as Record<string, unknown>)[f.name], f.typecode);
  };
  return {
    bytesPerElement: layout.size,
    view: undefined,
    read: (i) => Object.create(proto, { [BASE]: { value: i } }) as unknown,
    write,
  };
}

function cellsOf(type: SharedType, block: Block, count: number): Cells {
  return isStruct(type) ? structCells(type, block, count) : simpleCells(type, block, count);
}

/** How a type crosses to another process: a typecode, or a struct's name and fields. */
type TypeState = Typecode | { struct: string; fields: [string, Typecode][] };

function reduceType(type: SharedType): TypeState {
  return isStruct(type) ? { struct: type.name, fields: layoutOf(type).fields.map((f) => [f.name, f.typecode]) } : type;
}

function reviveType(state: TypeState): SharedType {
  return typeof state === 'string' ? state : Structure(Object.fromEntries(state.fields), state.struct);
}

function typeName(type: SharedType): string {
  return isStruct(type) ? type.name : JSON.stringify(type);
}

/** Shared memory for `count` elements, or MemoryError naming the size. */
function allocateFor(type: SharedType, count: number, what: string): Block {
  const bytes = Math.max(1, count) * elementSize(type);
  try {
    if (!Number.isSafeInteger(bytes) || bytes > MAX_MAPPING) throw new RangeError(`a shared mapping holds at most ${MAX_MAPPING} bytes`);
    return allocate(bytes);
  } catch (error) {
    throw new MemoryError(`cannot allocate ${bytes} bytes of shared memory for ${what}(${typeName(type)}, ${count}): ${(error as Error).message}`, {
      cause: error,
    });
  }
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
  if (typeof option.acquire !== 'function' || typeof option.release !== 'function')
    throw new TypeError("'lock' must be a boolean or an object with acquire() and release()");
  return option;
}

function reduceLock(lock: SharedObjectLock | undefined, context: TransferContext): ReducedObject | null {
  if (!lock) return null;
  if (isReducible(lock)) return lock[reduceSymbol](context);
  throw new TypeError('the lock of this shared object cannot cross into another process or thread');
}

interface SharedState {
  typecode: TypeState;
  block: BlockDescriptor;
  length: number;
  lock: ReducedObject | null;
  synchronized: boolean;
}

/** A plain copy of an element: a struct's fields as an object, a number or a character otherwise. */
function plain(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { toJSON(): unknown }).toJSON() : value;
}

/**
 * A single C value (or a `Structure()`) in shared memory, without a lock.
 * Python: multiprocessing.RawValue
 */
export class RawValue<C extends SharedType = Typecode> {
  readonly #typecode: C;
  readonly #block: Block;
  readonly #cells: Cells;

  constructor(typecode: C, init?: InitOf<C>, internal?: { block: Block }) {
    this.#typecode = typecode;
    this.#block = internal?.block ?? allocateFor(typecode, 1, 'Value');
    this.#cells = cellsOf(typecode, this.#block, 1);
    if (!internal && init !== undefined) this.#cells.write(0, init);
    if (!internal) objectCreated('Value');
  }

  /** The value, read from or written to shared memory at once; a struct's fields are live. */
  get value(): ElementOf<C> {
    return this.#cells.read(0) as ElementOf<C>;
  }

  set value(value: InitOf<C>) {
    this.#cells.write(0, value);
  }

  /** The typecode or struct type it was made with. */
  get typecode(): C {
    return this.#typecode;
  }

  /** The raw one-element typed array over the shared memory (Atomics work on integer codes), or the live struct. */
  getObj(): C extends StructType ? ElementOf<C> : View {
    return (this.#cells.view ?? this.#cells.read(0)) as C extends StructType ? ElementOf<C> : View;
  }

  protected reduceState(context: TransferContext, lock: SharedObjectLock | undefined, synchronized: boolean): SharedState {
    return {
      typecode: reduceType(this.#typecode),
      block: reduceBlock(this.#block, context.startMethod, 'Value'),
      length: 1,
      lock: reduceLock(lock, context),
      synchronized,
    };
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    return { kind: 'forkscope.Value', state: this.reduceState(context, undefined, false) };
  }

  [inspect.custom](): string {
    return `${this.constructor.name}(${typeName(this.#typecode)}, ${inspect(plain(this.value))})`;
  }
}

/**
 * A C value in shared memory guarded by a lock (an RLock unless told otherwise): `new Value('d', 1.5)`,
 * or a struct, `new Value(Structure({ x: 'd', y: 'd' }), { x: 1, y: 2 })` read as `v.value.x`.
 * Python: multiprocessing.Value
 */
export class Value<C extends SharedType = Typecode> extends RawValue<C> {
  readonly #lock: SharedObjectLock | undefined;

  constructor(typecode: C, init?: InitOf<C>, options: SynchronizedOptions = {}, internal?: { block: Block; lock?: SharedObjectLock }) {
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
  const type = reviveType(s.typecode);
  if (!s.synchronized) return new RawValue(type, undefined, { block });
  return new Value(type, undefined, {}, { block, lock: s.lock ? (reviveObject(s.lock) as SharedObjectLock) : undefined });
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

/** The element count `Array(type, n)` asks for, checked as ctypes checks `type * n`. */
function sizeOf(size: number): number {
  if (!Number.isInteger(size)) throw new TypeError(`an array's size must be an integer, not ${describe(size)}`);
  if (size < 0) throw new ValueError(`an array's size must be >= 0, not ${size}`);
  return size;
}

/**
 * A C array (of a typecode or a `Structure()`) in shared memory without a lock; `arr[i]` reads and
 * writes it. Python: multiprocessing.RawArray
 */
export class RawArray<C extends SharedType = Typecode> {
  readonly #typecode: C;
  readonly #block: Block;
  readonly #cells: Cells;
  readonly #length: number;
  [index: number]: ElementOf<C>;

  constructor(typecode: C, sizeOrInit: number | Iterable<InitOf<C>> | string, internal?: { block: Block; length: number }) {
    this.#typecode = typecode;
    elementSize(typecode);
    const init = typeof sizeOrInit === 'number' ? undefined : [...(sizeOrInit as Iterable<unknown>)];
    this.#length = internal?.length ?? (init ? init.length : sizeOf(sizeOrInit as number));
    this.#block = internal?.block ?? allocateFor(typecode, this.#length, 'Array');
    this.#cells = cellsOf(typecode, this.#block, this.#length);
    if (init) init.forEach((value, i) => this.#cells.write(i, value));
    if (!internal) objectCreated('Array', { capacity: this.#length });
    const proxy = new Proxy(this, indexing as ProxyHandler<this>);
    targets.set(proxy, this);
    return proxy;
  }

  /** How many elements it holds. */
  get length(): number {
    return this.#length;
  }

  /** The typecode or struct type it was made with. */
  get typecode(): C {
    return this.#typecode;
  }

  /** Reads element `i` (negative counts from the end); a struct element is live. Python: arr[i] */
  getItem(i: number): ElementOf<C> {
    return this.#cells.read(this.#index(i)) as ElementOf<C>;
  }

  /** Writes element `i` (negative counts from the end). Python: arr[i] = v */
  setItem(i: number, value: unknown): void {
    this.#cells.write(this.#index(i), value);
  }

  #index(i: number): number {
    const n = this.#length;
    const at = i < 0 ? i + n : i;
    if (!Number.isInteger(at) || at < 0 || at >= n) throw new IndexError('invalid index');
    return at;
  }

  /** Elements `start` to `end` as a plain array. Python: arr[start:end] */
  slice(start?: number, end?: number): ElementOf<C>[] {
    return this.toArray().slice(start, end);
  }

  /** Writes `values` from element `offset` on. Python: arr[offset:offset+len(values)] = values */
  set(values: Iterable<InitOf<C>>, offset = 0): void {
    let i = offset;
    for (const value of values) this.setItem(i++, value);
  }

  /** Every element as a plain array (structs as plain objects, copied). Python: list(arr) / arr[:] */
  toArray(): ElementOf<C>[] {
    const out: ElementOf<C>[] = [];
    for (let i = 0; i < this.#length; i++) out.push(plain(this.#cells.read(i)) as ElementOf<C>);
    return out;
  }

  /** Each element in turn; struct elements are live, so `for (const p of arr) p.x *= 2` writes. */
  *[Symbol.iterator](): IterableIterator<ElementOf<C>> {
    for (let i = 0; i < this.#length; i++) yield this.#cells.read(i) as ElementOf<C>;
  }

  /** The typed array over the shared memory: the fastest access, and Atomics on integer codes. */
  getObj(): View {
    if (!this.#cells.view) throw new TypeError(`an Array of ${typeName(this.#typecode)} has no typed array; read its elements`);
    return this.#cells.view;
  }

  #chars(): View {
    if (this.#typecode !== 'c' && this.#typecode !== 'u') throw new TypeError(`only 'c' and 'u' arrays have .value`);
    return this.#cells.view!;
  }

  /** For `c` and `u` arrays: the text up to the first NUL. Python: arr.value */
  get value(): string {
    const view = this.#chars();
    let text = '';
    for (let i = 0; i < view.length; i++) {
      const code = view[i] as number;
      if (code === 0) break;
      text += String.fromCodePoint(code);
    }
    return text;
  }

  set value(text: string) {
    const view = this.#chars();
    const chars = this.#typecode === 'c' ? [...Buffer.from(text, 'latin1')] : [...text].map((c) => c.codePointAt(0)!);
    if (chars.length > view.length) throw new RangeError('string too long');
    chars.forEach((code, i) => ((view as Uint32Array)[i] = code));
    if (chars.length < view.length) (view as Uint32Array)[chars.length] = 0;
  }

  /** For `c` arrays: the bytes themselves, sharing the memory. Python: arr.raw */
  get raw(): Buffer {
    if (this.#typecode !== 'c') throw new TypeError(`only 'c' arrays have .raw`);
    return Buffer.from(this.#block.buffer, this.#block.offset, this.#length);
  }

  protected reduceState(context: TransferContext, lock: SharedObjectLock | undefined, synchronized: boolean): SharedState {
    return {
      typecode: reduceType(this.#typecode),
      block: reduceBlock(this.#block, context.startMethod, 'Array'),
      length: this.#length,
      lock: reduceLock(lock, context),
      synchronized,
    };
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    return { kind: 'forkscope.Array', state: this.reduceState(context, undefined, false) };
  }

  [inspect.custom](): string {
    // util.inspect calls this with the indexing proxy as `this`, where #private fields do not exist.
    const self = (targets.get(this) ?? this) as RawArray<C>;
    return `${self.constructor.name === 'SharedArray' ? 'Array' : self.constructor.name}(${typeName(self.#typecode)}, ${inspect(self.toArray())})`;
  }
}

/**
 * A C array in shared memory guarded by a lock; `arr[i]` reads and writes it, and an Array of a
 * `Structure()` gives live structs: `arr[0].x = 1`. Python: multiprocessing.Array
 */
export class SharedArray<C extends SharedType = Typecode> extends RawArray<C> {
  constructor(
    typecode: C,
    sizeOrInit: number | Iterable<InitOf<C>> | string,
    options: SynchronizedOptions = {},
    internal?: { block: Block; length: number; lock?: SharedObjectLock },
  ) {
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
  const type = reviveType(s.typecode);
  if (!s.synchronized) return new RawArray(type, s.length, { block, length: s.length });
  return new SharedArray(type, s.length, {}, { block, length: s.length, lock: s.lock ? (reviveObject(s.lock) as SharedObjectLock) : undefined });
});

export { SharedArray as Array };
