// SharedMemory and ShareableList: Python's multiprocessing.shared_memory over named tmpfs segments
// (/dev/shm/<name> on Linux, as shm_open names them, so Python can attach to ours and we to Python's),
// mapped by the native binding. Segments are removed when their last user exits (shm/lifeline.ts).
// Node's modules only.
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { reduceSymbol, registerReviver, reviveObject, type ReducedObject, type TransferContext } from './reduction';
import { FileExistsError, FileNotFoundError, IndexError, ValueError } from './errors';
import { bindingFailure, shmBinding } from './shm/binding';
import { trackSegment, untrackSegment } from './shm/lifeline';

function segmentDir(): string {
  return process.platform === 'linux' && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

function segmentPath(name: string): string {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (bare === '' || bare.includes('/') || bare === '.' || bare === '..') throw new ValueError(`invalid shared memory name ${JSON.stringify(name)}`);
  return join(segmentDir(), bare);
}

export interface SharedMemoryOptions {
  /** The segment's name; a new random one when creating without it. */
  name?: string;
  /** Make a new segment (fails if the name exists) rather than attach. @default false */
  create?: boolean;
  /** Bytes, when creating. */
  size?: number;
  /** Remove the segment when its last user exits, even after kill -9. @default true */
  track?: boolean;
}

/** A named block of memory every process can map. Python: multiprocessing.shared_memory.SharedMemory */
export class SharedMemory {
  readonly #name: string;
  readonly #path: string;
  readonly #size: number;
  #fd: number | undefined;
  #buffer: SharedArrayBuffer | undefined;

  constructor(options: SharedMemoryOptions = {}, internal?: { buffer: SharedArrayBuffer }) {
    const create = options.create ?? false;
    if (!create && options.name === undefined) throw new ValueError("'name' can only be omitted when creating a new segment");
    if (create && !(Number.isInteger(options.size) && options.size! > 0)) throw new ValueError("'size' must be a positive number different from zero");
    this.#name = options.name ?? `psm_${randomBytes(4).toString('hex')}`;
    this.#path = segmentPath(this.#name);
    const binding = shmBinding();
    if (!binding) {
      // Threads of one process can still share: the segment crosses as its SharedArrayBuffer.
      if (internal) {
        this.#buffer = internal.buffer;
        this.#size = internal.buffer.byteLength;
        return;
      }
      if (!create) throw new Error(`forkscope cannot attach to shared memory ${JSON.stringify(this.#name)}: ${bindingFailure()}`);
      this.#size = options.size!;
      this.#buffer = new SharedArrayBuffer(this.#size);
      return;
    }
    let fd: number;
    try {
      fd = openSync(this.#path, create ? 'wx+' : 'r+', 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new FileExistsError(`[Errno 17] File exists: '/${this.#name}'`);
      if (code === 'ENOENT') throw new FileNotFoundError(`[Errno 2] No such file or directory: '/${this.#name}'`);
      throw error;
    }
    try {
      if (create) ftruncateSync(fd, options.size!);
      const size = fstatSync(fd).size;
      if (size === 0) throw new ValueError('cannot mmap an empty file');
      this.#size = size;
      this.#buffer = binding.map(fd, size);
      binding.flock(fd, 0);
    } catch (error) {
      closeSync(fd);
      if (create) unlinkSync(this.#path);
      throw error;
    }
    this.#fd = fd;
    if (options.track ?? true) trackSegment(this.#path, () => this.#closeFd());
  }

  /** The segment's name, as another process passes it to attach. */
  get name(): string {
    return this.#name;
  }

  /** Its size in bytes. */
  get size(): number {
    return this.#size;
  }

  /** A Buffer over the shared memory itself (not a copy). Python: shm.buf */
  get buf(): Buffer {
    if (!this.#buffer) throw new ValueError('operation on a closed SharedMemory');
    return Buffer.from(this.#buffer, 0, this.#size);
  }

  /** The SharedArrayBuffer under `buf`, for typed arrays and Atomics. */
  get buffer(): SharedArrayBuffer {
    if (!this.#buffer) throw new ValueError('operation on a closed SharedMemory');
    return this.#buffer;
  }

  #closeFd(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // closed already
    }
    this.#fd = undefined;
  }

  /** Stops using the segment from this object (the memory lives on for the others). Python: shm.close() */
  close(): void {
    this.#buffer = undefined;
    this.#closeFd();
  }

  /** Removes the segment's name; the memory goes when its last user unmaps it. Python: shm.unlink() */
  unlink(): void {
    untrackSegment(this.#path);
    if (!shmBinding()) return;
    try {
      unlinkSync(this.#path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(`[Errno 2] No such file or directory: '/${this.#name}'`);
      throw error;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    const shareBuffer = context.startMethod === 'thread' || context.startMethod === 'inline';
    if (!shareBuffer && !shmBinding())
      throw new Error(`forkscope cannot share SharedMemory ${JSON.stringify(this.#name)} with a "${context.startMethod}" process: ${bindingFailure()}`);
    return { kind: 'forkscope.SharedMemory', state: { name: this.#name, buffer: shareBuffer && !shmBinding() ? this.#buffer : undefined } };
  }

  [inspect.custom](): string {
    return `SharedMemory(${JSON.stringify(this.#name)}, size=${this.#size})`;
  }
}

registerReviver('forkscope.SharedMemory', (state) => {
  const { name, buffer } = state as { name: string; buffer?: SharedArrayBuffer };
  return new SharedMemory({ name }, buffer ? { buffer } : undefined);
});

// ShareableList layout: Int32 header [magic, count], then per item Int32 [type, capacity, offset,
// length], then each item's bytes (8-aligned). Numbers are float64; str/bytes keep the capacity
// they were made with, as in Python.
const MAGIC = 0x46534c31;
const enum Type {
  None = 0,
  Int = 1,
  Float = 2,
  Bool = 3,
  Str = 4,
  Bytes = 5,
}
type Item = number | boolean | string | Buffer | Uint8Array | null;
const FORMATS = ['x', 'q', 'd', '?', 's', 'b'];

function encode(item: Item): { type: Type; bytes?: Buffer } {
  if (item === null || item === undefined) return { type: Type.None };
  if (typeof item === 'boolean') return { type: Type.Bool };
  if (typeof item === 'number') return { type: Number.isInteger(item) ? Type.Int : Type.Float };
  if (typeof item === 'string') return { type: Type.Str, bytes: Buffer.from(item, 'utf8') };
  if (item instanceof Uint8Array) return { type: Type.Bytes, bytes: Buffer.from(item) };
  throw new TypeError(`ShareableList items are numbers, booleans, strings, bytes or null, not ${typeof item}`);
}

const listIndexing: ProxyHandler<ShareableList> = {
  get(target, key) {
    if (typeof key === 'string' && /^-?(0|[1-9]\d*)$/.test(key)) return target.getItem(Number(key));
    const value = Reflect.get(target, key, target) as unknown;
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  },
  set(target, key, value) {
    if (typeof key === 'string' && /^-?(0|[1-9]\d*)$/.test(key)) {
      target.setItem(Number(key), value as Item);
      return true;
    }
    return Reflect.set(target, key, value, target);
  },
};

/** A fixed-length list of numbers, booleans, strings, bytes and nulls in one SharedMemory. Python: multiprocessing.shared_memory.ShareableList */
export class ShareableList {
  readonly #shm: SharedMemory;
  readonly #meta: Int32Array;
  readonly #count: number;
  [index: number]: Item;

  constructor(sequence: Iterable<Item> | null = null, options: { name?: string; shm?: SharedMemory } = {}) {
    if (sequence !== null) {
      const values = [...sequence];
      const items = values.map(encode);
      const header = Math.ceil((8 + items.length * 16) / 8) * 8;
      const capacities = items.map((e) => Math.max(8, Math.ceil((e.bytes?.length ?? 0) / 8) * 8));
      const size = header + capacities.reduce((a, b) => a + b, 0);
      this.#shm = new SharedMemory({ name: options.name, create: true, size });
      this.#meta = new Int32Array(this.#shm.buffer, 0, 2 + items.length * 4);
      this.#count = items.length;
      this.#meta[1] = items.length;
      let offset = header;
      items.forEach((_e, i) => {
        this.#meta[2 + i * 4 + 1] = capacities[i]!;
        this.#meta[2 + i * 4 + 2] = offset;
        offset += capacities[i]!;
      });
      values.forEach((item, i) => this.setItem(i, item));
      this.#meta[0] = MAGIC;
    } else {
      if (!options.shm && options.name === undefined) throw new ValueError('ShareableList(null) needs a name to attach to');
      this.#shm = options.shm ?? new SharedMemory({ name: options.name });
      const head = new Int32Array(this.#shm.buffer, 0, 2);
      if (head[0] !== MAGIC) throw new ValueError(`shared memory ${JSON.stringify(this.#shm.name)} does not hold a ShareableList`);
      this.#count = head[1]!;
      this.#meta = new Int32Array(this.#shm.buffer, 0, 2 + this.#count * 4);
    }
    return new Proxy(this, listIndexing as ProxyHandler<this>);
  }

  /** The SharedMemory holding the list. Python: sl.shm */
  get shm(): SharedMemory {
    return this.#shm;
  }

  /** How many items it holds. */
  get length(): number {
    return this.#count;
  }

  /** The struct format of the items, as Python would spell it. Python: sl.format */
  get format(): string {
    let out = '';
    for (let i = 0; i < this.#count; i++) {
      const type = this.#meta[2 + i * 4]! as Type;
      out += type === Type.Str || type === Type.Bytes ? `${this.#meta[2 + i * 4 + 1]}${FORMATS[type]}` : FORMATS[type];
    }
    return out;
  }

  #slot(i: number): number {
    const at = i < 0 ? i + this.#count : i;
    if (!Number.isInteger(at) || at < 0 || at >= this.#count) throw new IndexError('index out of range');
    return 2 + at * 4;
  }

  /** Item `i` (negative counts from the end). Python: sl[i] */
  getItem(i: number): Item {
    const slot = this.#slot(i);
    const [type, , offset, length] = this.#meta.subarray(slot, slot + 4) as unknown as [Type, number, number, number];
    const buffer = this.#shm.buffer;
    switch (type) {
      case Type.None:
        return null;
      case Type.Bool:
        return new Float64Array(buffer, offset, 1)[0] !== 0;
      case Type.Int:
      case Type.Float:
        return new Float64Array(buffer, offset, 1)[0]!;
      case Type.Str:
        return Buffer.from(buffer, offset, length).toString('utf8');
      default:
        return Buffer.from(Buffer.from(buffer, offset, length));
    }
  }

  /** Replaces item `i`; strings and bytes must fit the room the item was made with. Python: sl[i] = v */
  setItem(i: number, item: Item): void {
    const slot = this.#slot(i);
    const { type, bytes } = encode(item);
    const capacity = this.#meta[slot + 1]!;
    const offset = this.#meta[slot + 2]!;
    if (bytes) {
      if (bytes.length > capacity) throw new ValueError(`${type === Type.Str ? 'str' : 'bytes'} item exceeds available storage`);
      bytes.copy(Buffer.from(this.#shm.buffer, offset, capacity));
      this.#meta[slot + 3] = bytes.length;
    } else {
      new Float64Array(this.#shm.buffer, offset, 1)[0] = type === Type.Bool ? Number(item) : type === Type.None ? 0 : (item as number);
      this.#meta[slot + 3] = 8;
    }
    this.#meta[slot] = type;
  }

  /** How many items equal `value`. Python: sl.count(value) */
  count(value: Item): number {
    return this.toArray().filter((item) => same(item, value)).length;
  }

  /** The first position of `value`. Python: sl.index(value) */
  index(value: Item): number {
    const at = this.toArray().findIndex((item) => same(item, value));
    if (at < 0) throw new ValueError(`${String(value)} not in this container`);
    return at;
  }

  /** Every item as a plain array. Python: list(sl) */
  toArray(): Item[] {
    const out: Item[] = [];
    for (let i = 0; i < this.#count; i++) out.push(this.getItem(i));
    return out;
  }

  *[Symbol.iterator](): IterableIterator<Item> {
    for (let i = 0; i < this.#count; i++) yield this.getItem(i);
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    return { kind: 'forkscope.ShareableList', state: this.#shm[reduceSymbol](context) };
  }

  [inspect.custom](): string {
    return `ShareableList(${inspect(this.toArray())}, name=${JSON.stringify(this.#shm.name)})`;
  }
}

function same(a: Item, b: Item): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  return a === b;
}

registerReviver('forkscope.ShareableList', (state) => new ShareableList(null, { shm: reviveObject(state as ReducedObject) as SharedMemory }));
