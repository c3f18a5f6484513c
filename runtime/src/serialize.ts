// Prepares values to cross into another process or thread, and rebuilds them there: runtime objects
// become descriptors (reduction.ts), exported functions and error classes travel by module and export
// name (as pickle sends them), errors keep class/name/message/stack, and anything that cannot cross is
// refused with its path (`args[1].callback is …`). The one codec of queues, pipes, pools and managers.
// Node's modules only.
import { deserialize, serialize } from 'node:v8';
import { errorClass, knownErrorName, PicklingError, RemoteError } from './errors';
import { isReducible, reduceSymbol, reviveObject, type ReducedObject, type TransferContext } from './reduction';
import { findTarget, lookupRef, importRef, type TargetRef } from './targets';

/** Marks a descriptor in the encoded tree; a plain key so structured clone keeps it. */
const REDUCED = '__forkscope_reduced__';
const ERROR = '__forkscope_error__';
const FUNCTION = '__forkscope_function__';

interface EncodedFunction {
  [FUNCTION]: true;
  ref: TargetRef;
}

interface EncodedError {
  [ERROR]: true;
  /** The runtime's or JavaScript's own class, by name (its `name` may differ where the program renamed the instance). */
  ctor?: string;
  /** The user's class, by module and export name. */
  cls?: TargetRef;
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  props?: Record<string, unknown>;
}

/** Encodes `value` for structured clone; `path` names it in errors (`args[0]`). */
export function encode(value: unknown, context: TransferContext, path: string): unknown {
  return walk(value, context, path, new Map());
}

function walk(value: unknown, context: TransferContext, path: string, seen: Map<object, unknown>): unknown {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return value;
    case 'function':
      return encodeFunction(value, path);
    case 'symbol':
      throw new PicklingError(`${path} is a symbol and cannot be sent to another process`);
  }
  if (value === null) return value;
  const object = value as object;
  if (seen.has(object)) return seen.get(object);
  if (isReducible(object)) {
    const reduced = object[reduceSymbol](context);
    const out = { [REDUCED]: true, kind: reduced.kind, state: reduced.state };
    seen.set(object, out);
    return out;
  }
  if (object instanceof Error) return encodeError(object, seen);
  if (Array.isArray(object)) {
    const out: unknown[] = new Array(object.length);
    seen.set(object, out);
    for (let i = 0; i < object.length; i++) out[i] = walk(object[i], context, `${path}[${i}]`, seen);
    return out;
  }
  if (object instanceof Map) {
    const out = new Map();
    seen.set(object, out);
    let i = 0;
    for (const [k, v] of object) {
      out.set(walk(k, context, `${path}.keys()[${i}]`, seen), walk(v, context, `${path}.get(${describeKey(k)})`, seen));
      i++;
    }
    return out;
  }
  if (object instanceof Set) {
    const out = new Set();
    seen.set(object, out);
    let i = 0;
    for (const v of object) out.add(walk(v, context, `${path}.values()[${i++}]`, seen));
    return out;
  }
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer || object instanceof Date || object instanceof RegExp) return object;
  if (typeof SharedArrayBuffer !== 'undefined' && object instanceof SharedArrayBuffer) return object;
  if (object instanceof Promise) throw new PicklingError(`${path} is a Promise and cannot be sent to another process; await it first`);
  if (object instanceof WeakMap || object instanceof WeakSet || object instanceof WeakRef) {
    throw new PicklingError(`${path} is a ${object.constructor.name} and cannot be sent to another process`);
  }
  // Plain objects and class instances: own enumerable fields cross (the prototype does not, as structured clone).
  const out: Record<string, unknown> = {};
  seen.set(object, out);
  for (const key of Object.keys(object)) {
    out[key] = walk((object as Record<string, unknown>)[key], context, `${path}.${key}`, seen);
  }
  return out;
}

/** A function crosses by module and export name, as pickle sends one; anything else is refused with its path. */
function encodeFunction(fn: Function, path: string): EncodedFunction {
  try {
    return { [FUNCTION]: true, ref: findTarget(fn) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PicklingError(`${path} is a function that cannot be sent to another process by reference: ${reason}`);
  }
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : String(key);
}

/**
 * An error as data: name, message and stack survive, whatever its class. The one encoding of an error that crosses
 * a process, whichever way (a pool worker's result, a manager's reply, a broker's OP_ERROR); decodeError() reads it.
 */
export function encodeError(error: Error, seen = new Map<object, unknown>()): EncodedError {
  const out: EncodedError = { [ERROR]: true, name: safeString(() => error.name, 'Error'), message: safeString(() => error.message, '') };
  seen.set(error, out);
  const ctor = safeCtor(error);
  if (ctor) {
    const own = knownErrorName(ctor);
    if (own) out.ctor = own;
    else {
      try {
        out.cls = findTarget(ctor);
      } catch {
        // Not exported: it comes back as a RemoteError that carries its name.
      }
    }
  }
  const stack = safeString(() => error.stack, '');
  if (stack) out.stack = stack;
  const props: Record<string, unknown> = {};
  let hasProps = false;
  for (const key of safeKeys(error)) {
    if (key === 'name' || key === 'message' || key === 'stack') continue;
    try {
      const v = (error as unknown as Record<string, unknown>)[key];
      if (v === null || ['string', 'number', 'boolean', 'bigint', 'undefined'].includes(typeof v)) {
        props[key] = v;
        hasProps = true;
      }
    } catch {
      // A throwing getter loses that one field, never the error.
    }
  }
  if (hasProps) out.props = props;
  try {
    if (error.cause instanceof Error && !seen.has(error.cause)) out.cause = encodeError(error.cause, seen);
  } catch {
    // As above.
  }
  return out;
}

/** Any thrown value as something that crosses: errors as data, other values when cloneable, else a description. */
export function encodeThrown(thrown: unknown): unknown {
  if (thrown instanceof Error) return encodeError(thrown);
  try {
    return encode(thrown, { startMethod: 'spawn', transfer: [] }, 'error');
  } catch {
    return encodeError(new PicklingError(`a thrown value could not be sent back: ${safeString(() => String(thrown), typeof thrown)}`));
  }
}

function safeString(read: () => unknown, fallback: string): string {
  try {
    const v = read();
    return typeof v === 'string' ? v : fallback;
  } catch {
    return fallback;
  }
}

function safeKeys(o: object): string[] {
  try {
    return Object.keys(o);
  } catch {
    return [];
  }
}

function safeCtor(error: Error): Function | undefined {
  try {
    const ctor = (Object.getPrototypeOf(error) as { constructor?: unknown } | null)?.constructor;
    return typeof ctor === 'function' ? ctor : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rebuilds an encoded error as its own class: the runtime's or JavaScript's by name, the user's by module and
 * export name when this process has that module loaded (decodeAsync() loads it first), else a RemoteError that
 * carries the remote name, message and stack. No constructor runs: the instance is made from the prototype. The
 * runtime's classes are found in errors.ts' one table (errorClass()).
 */
export function decodeError(encoded: EncodedError): Error {
  const byName = encoded.ctor ?? (encoded.cls ? undefined : encoded.name);
  const Known = byName !== undefined ? errorClass(byName) : undefined;
  const User = encoded.cls ? lookupRef(encoded.cls) : undefined;
  const Class = Known ?? (User && (User === Error || User.prototype instanceof Error) ? User : undefined);
  let error: Error;
  if (Class) {
    error = Object.create(Class.prototype as object) as Error;
    Object.defineProperty(error, 'message', { value: encoded.message, writable: true, configurable: true });
    if (encoded.name !== (Class.prototype as Error).name) Object.defineProperty(error, 'name', { value: encoded.name, writable: true, configurable: true });
    Object.defineProperty(error, 'stack', { value: encoded.stack ?? `${encoded.name}: ${encoded.message}`, writable: true, configurable: true });
  } else {
    // DESIGN.md: a child's error keeps its name; `instanceof RemoteError` and `remoteName` say it is foreign.
    error = new RemoteError(encoded.name, encoded.message, encoded.stack);
  }
  if (encoded.props) {
    for (const [k, v] of Object.entries(encoded.props)) {
      if (k === '__proto__' || k === 'constructor') continue;
      try {
        (error as unknown as Record<string, unknown>)[k] = v;
      } catch {
        // A read-only property on the local class keeps its local value.
      }
    }
  }
  if (encoded.cause && isEncodedError(encoded.cause)) error.cause = decodeError(encoded.cause);
  return error;
}

function isEncodedError(value: unknown): value is EncodedError {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[ERROR] === true;
}

/**
 * @internal Kinds that only the side decoding can rebuild (a manager's references: managers/codec.ts), handed to
 * one decode() explicitly; they take precedence over the revivers registered for the process.
 */
export type OwnRevivers = ReadonlyMap<string, (state: unknown) => unknown>;

/** Rebuilds what encode() produced: descriptors become live objects, encoded errors become errors. */
export function decode(value: unknown, own?: OwnRevivers): unknown {
  return unwalk(value, new Map(), own);
}

function unwalk(value: unknown, seen: Map<object, unknown>, own: OwnRevivers | undefined): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    seen.set(value, value);
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === 'object' && v !== null) value[i] = unwalk(v, seen, own);
    }
    return value;
  }
  if (value instanceof Map) {
    seen.set(value, value);
    const entries = [...value];
    value.clear();
    for (const [k, v] of entries) value.set(unwalk(k, seen, own), unwalk(v, seen, own));
    return value;
  }
  if (value instanceof Set) {
    seen.set(value, value);
    const items = [...value];
    value.clear();
    for (const v of items) value.add(unwalk(v, seen, own));
    return value;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp || value instanceof Error) return value;
  const record = value as Record<string, unknown>;
  if (record[REDUCED] === true) {
    const revive = own?.get(record.kind as string);
    const revived = revive ? revive(record.state) : reviveObject({ kind: record.kind as string, state: record.state } as ReducedObject);
    seen.set(value, revived);
    return revived;
  }
  if (record[ERROR] === true) {
    const error = decodeError(record as unknown as EncodedError);
    seen.set(value, error);
    return error;
  }
  if (record[FUNCTION] === true) {
    const ref = record.ref as TargetRef;
    const fn = lookupRef(ref);
    if (!fn)
      throw new PicklingError(
        `${ref.label} (export ${ref.name} of ${ref.module}) arrived by reference, but its module is not loaded in this process; receive it with decodeAsync(), or import the module first`,
      );
    seen.set(value, fn);
    return fn;
  }
  seen.set(value, value);
  for (const key of Object.keys(record)) {
    const v = record[key];
    if (typeof v === 'object' && v !== null) record[key] = unwalk(v, seen, own);
  }
  return value;
}

/** A thrown value from the other side: encoded errors become errors, other values pass through. */
export function decodeThrown(value: unknown): unknown {
  return isEncodedError(value) ? decodeError(value) : decode(value);
}

/**
 * decode(), after importing every module that a function or error class inside `value` is exported from: the one
 * to use where the receiver may not have loaded them (a worker's arguments, a result, an error from another
 * process). It imports code named on the wire, so it is for the program's own processes, never a network peer.
 */
export async function decodeAsync(value: unknown): Promise<unknown> {
  await importRefs(value);
  return decode(value);
}

/** Imports every module a function or error class inside encoded `value` is exported from (decodeAsync's first step). */
export async function importRefs(value: unknown): Promise<void> {
  const refs: TargetRef[] = [];
  collectRefs(value, refs, new Set());
  for (const ref of refs) {
    try {
      await importRef(ref);
    } catch {
      // An error class that cannot be loaded comes back as RemoteError; a function then fails in decode() naming it.
    }
  }
}

/** decodeThrown() after decodeAsync()'s imports: an error of the user's own class comes back as that class. */
export async function decodeThrownAsync(value: unknown): Promise<unknown> {
  return isEncodedError(value) ? ((await decodeAsync([value])) as unknown[])[0] : decodeAsync(value);
}

function collectRefs(value: unknown, refs: TargetRef[], seen: Set<object>): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp) return;
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, refs, seen);
    return;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      collectRefs(k, refs, seen);
      collectRefs(v, refs, seen);
    }
    return;
  }
  if (value instanceof Set) {
    for (const v of value) collectRefs(v, refs, seen);
    return;
  }
  const record = value as Record<string, unknown>;
  if (record[FUNCTION] === true) refs.push(record.ref as TargetRef);
  else if (record[ERROR] === true && record.cls) refs.push(record.cls as TargetRef);
  if (record[REDUCED] === true) return;
  for (const key of Object.keys(record)) collectRefs(record[key], refs, seen);
}

/** Cheap test: true when `value` needs no walking (primitives, and arrays of primitives). */
export function isPlainData(value: unknown): boolean {
  const t = typeof value;
  if (t !== 'object') return t !== 'function' && t !== 'symbol';
  if (value === null) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const tv = typeof v;
      if (tv === 'object' ? v !== null : tv === 'function' || tv === 'symbol') return false;
    }
    return true;
  }
  return false;
}

/** Fewer numbers than this cross as they are: packing them would cost more than it saves. */
export const PACKED_MIN = 64;

/**
 * Numbers cross as one Float64Array (a memcpy for the serializer) instead of one tagged value each: `items` packed
 * when there are enough of them and all are numbers, else undefined. One pass, which is also the plain-data check.
 */
export function packedNumbers(items: ArrayLike<unknown>): Float64Array | undefined {
  if (items.length < PACKED_MIN || typeof items[0] !== 'number') return undefined;
  const packed = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    if (typeof v !== 'number') return undefined;
    packed[i] = v;
  }
  return packed;
}

/**
 * True when a runtime object (a Connection, Queue, Lock…) sits anywhere inside `value`. Structured clone would
 * turn it into `{}`: a pipe or queue sends such a value reduced instead.
 */
export function holdsReducible(value: unknown): boolean {
  if (typeof value === 'function') return true;
  return typeof value === 'object' && value !== null && scanForReducible(value, { visits: 0, seen: undefined });
}

/** Objects looked at before a set of seen ones is kept (this runs on every put): cycles and shared parts stay cheap. */
const UNTRACKED_VISITS = 64;

interface Scan {
  visits: number;
  seen: Set<object> | undefined;
}

function scanForReducible(value: object, scan: Scan): boolean {
  if (isReducible(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp || value instanceof Error) return false;
  }
  if (++scan.visits > UNTRACKED_VISITS) {
    scan.seen ??= new Set();
    if (scan.seen.has(value)) return false;
    scan.seen.add(value);
  }
  // Plain loops with the test written out: a closure here made the scan cost as much as the serialisation.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' ? v !== null && scanForReducible(v, scan) : typeof v === 'function') return true;
    }
    return false;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if (typeof k === 'object' ? k !== null && scanForReducible(k, scan) : typeof k === 'function') return true;
      if (typeof v === 'object' ? v !== null && scanForReducible(v as object, scan) : typeof v === 'function') return true;
    }
    return false;
  }
  if (value instanceof Set) {
    for (const v of value) if (typeof v === 'object' ? v !== null && scanForReducible(v as object, scan) : typeof v === 'function') return true;
    return false;
  }
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if ((typeof v === 'object' ? v !== null && scanForReducible(v, scan) : typeof v === 'function') && Object.hasOwn(value, key)) return true;
  }
  return false;
}

/** A value that holdsReducible(), as bytes: each runtime object inside reduced (a copy this process holds until received), each function by reference. */
export function serializeReducing(value: unknown, path: string): Buffer {
  return serialize(encode(value, { startMethod: 'spawn', transfer: [] }, path));
}

/** The value serializeReducing() wrote, its runtime objects revived. */
export function deserializeReduced(bytes: Uint8Array): unknown {
  return decode(deserialize(bytes));
}

/** deserializeReduced() after importing the modules its functions and error classes come from (see decodeAsync). */
export function deserializeReducedAsync(bytes: Uint8Array): Promise<unknown> {
  return decodeAsync(deserialize(bytes));
}
