// How items and messages become bytes: structured clone (node:v8) for everything, with a one-byte-tag
// shortcut for numbers, strings, booleans, null and undefined, and JSON for plain data that JSON carries
// exactly (v8.serialize costs microseconds per small object; JSON.stringify a fraction). Pure.
import { deserialize, serialize } from 'node:v8';

// v8's format starts with 0xFF (its version tag), so these leading bytes cannot be mistaken for it.
const TAG_NUMBER = 0xf0;
const TAG_STRING = 0xf1;
const TAG_CONSTANT = 0xf2;
/** An item with runtime objects inside (serializeReducing's bytes follow): its getter revives them. */
const TAG_REDUCED = 0xf3;
/** Plain data that JSON round-trips exactly (see `jsonExact`): its UTF-8 JSON follows. */
const TAG_JSON = 0xf4;
/** An item that carries its message id for the hub's trace: one byte of id length, the id (ASCII), then the item's own bytes. */
const TAG_TRACED = 0xf5;
const constants = [undefined, null, false, true] as const;

export function encodeItem(value: unknown): Buffer {
  switch (typeof value) {
    case 'number': {
      const bytes = Buffer.allocUnsafe(9);
      bytes[0] = TAG_NUMBER;
      bytes.writeDoubleLE(value, 1);
      return bytes;
    }
    case 'string':
      if (value.length < 4096) {
        const bytes = Buffer.allocUnsafe(1 + Buffer.byteLength(value));
        bytes[0] = TAG_STRING;
        bytes.write(value, 1, 'utf8');
        return bytes;
      }
      break;
    case 'boolean':
    case 'undefined':
      return Buffer.from([TAG_CONSTANT, constants.indexOf(value)]);
    case 'object':
      if (value === null) return Buffer.from([TAG_CONSTANT, 1]);
  }
  return serialize(value);
}

export function decodeItem(bytes: Buffer): unknown {
  return release(heldFromBytes(bytes));
}

/**
 * A queue item as its owner holds it: a primitive as itself (immutable, so nothing to clone and nothing
 * to allocate), anything else as its structured-clone bytes. A Buffer is always bytes: a user's Buffer
 * or Uint8Array is an object and is held serialised.
 */
export type Held = Buffer | JsonHeld | number | string | boolean | null | undefined;

/** Plain data held as its JSON text, written out only where it is stored. */
export class JsonHeld {
  readonly text: string;
  readonly bytes: number;
  constructor(text: string) {
    this.text = text;
    this.bytes = 1 + Buffer.byteLength(text);
  }
}

/** Nesting beyond this goes through structured clone (which also keeps cycles). */
const JSON_DEPTH = 24;

/**
 * True when JSON carries `value` exactly as structured clone would: plain objects (Object.prototype) and
 * dense arrays of finite numbers other than -0, strings, booleans and null, each object reached once
 * (structured clone keeps shared references; JSON would copy them). Anything else takes v8's path.
 */
function jsonExact(value: object, depth: number, seen: Set<object> | undefined): boolean {
  if (depth > JSON_DEPTH) return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return false;
      const v: unknown = value[i];
      if (typeof v === 'object' && v !== null) {
        seen ??= new Set([value]);
        if (seen.has(v)) return false;
        seen.add(v);
        if (!jsonExact(v, depth + 1, seen)) return false;
      } else if (!jsonLeaf(v)) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'object' && v !== null) {
      seen ??= new Set([value]);
      if (seen.has(v)) return false;
      seen.add(v);
      if (!jsonExact(v, depth + 1, seen)) return false;
    } else if (!jsonLeaf(v)) return false;
  }
  return true;
}

function jsonLeaf(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && (v !== 0 || 1 / v > 0);
    default:
      return v === null;
  }
}

/** The held form of a value put into a queue. */
export function hold(value: unknown): Held {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'object':
      if (value === null) return null;
      if (jsonExact(value, 0, undefined)) return new JsonHeld(JSON.stringify(value));
  }
  return serialize(value);
}

/** The held form of an item whose runtime objects were reduced (serializeReducing's bytes). */
export function holdReduced(bytes: Buffer): Held {
  return Buffer.concat([Buffer.from([TAG_REDUCED]), bytes]);
}

/** serializeReducing's bytes when `held` came from holdReduced, else undefined. */
export function reducedBytes(held: Held): Buffer | undefined {
  return Buffer.isBuffer(held) && held[0] === TAG_REDUCED ? held.subarray(1) : undefined;
}

/** `held` carrying message id `id` (ASCII, under 256 characters) to whoever takes it: the trace joins put and get by it. */
export function holdTraced(held: Held, id: string): Buffer {
  const inner = heldToBytes(held);
  const bytes = Buffer.allocUnsafe(2 + id.length + inner.length);
  bytes[0] = TAG_TRACED;
  bytes[1] = id.length;
  bytes.write(id, 2, 'latin1');
  inner.copy(bytes, 2 + id.length);
  return bytes;
}

/** The message id a traced item carries, else undefined. */
export function tracedId(held: Held): string | undefined {
  return Buffer.isBuffer(held) && held[0] === TAG_TRACED ? held.toString('latin1', 2, 2 + held[1]!) : undefined;
}

/** The item inside a traced one (tracedId() said it is one). */
export function untraced(held: Buffer): Held {
  return heldFromBytes(held.subarray(2 + held[1]!));
}

/** The value a get() returns: a fresh clone of an object, the primitive itself. */
export function release(held: Held): unknown {
  if (typeof held !== 'object' || held === null) return held;
  if (held instanceof JsonHeld) return JSON.parse(held.text);
  return held[0] === TAG_JSON ? JSON.parse(held.toString('utf8', 1)) : deserialize(held);
}

/**
 * What encodeItem() made `bytes` from, or undefined when they are not such bytes: a send()'s message
 * relayed as raw bytes (recvBytes() then sendBytes()) still reads back as its object, as a pickle does.
 */
export function decodeIfItem(bytes: Buffer): { value: unknown } | undefined {
  const tag = bytes[0];
  const looksEncoded =
    (tag === TAG_NUMBER && bytes.length === 9) ||
    (tag === TAG_STRING && !bytes.subarray(1).toString('utf8').includes('\uFFFD')) ||
    (tag === TAG_CONSTANT && bytes.length === 2 && bytes[1]! < constants.length) ||
    tag === TAG_JSON ||
    tag === 0xff;
  if (!looksEncoded) return undefined;
  try {
    return { value: decodeItem(bytes) };
  } catch {
    return undefined;
  }
}

/** The held form of bytes from the wire (a view, not a copy). */
export function heldFromBytes(bytes: Buffer): Held {
  switch (bytes[0]) {
    case TAG_NUMBER:
      return bytes.readDoubleLE(1);
    case TAG_STRING:
      return bytes.toString('utf8', 1);
    case TAG_CONSTANT:
      return constants[bytes[1]!];
    default:
      return bytes;
  }
}

/** Bytes `writeHeld` writes for `held`. */
export function heldBytes(held: Held): number {
  switch (typeof held) {
    case 'number':
      return 9;
    case 'string':
      return 1 + (held.length < 64 && isAscii(held) ? held.length : Buffer.byteLength(held));
    case 'boolean':
    case 'undefined':
      return 2;
    default:
      if (held === null) return 2;
      return held instanceof JsonHeld ? held.bytes : held.byteLength;
  }
}

/** Writes `held` as wire bytes at `offset` (exactly `heldBytes(held)` of them): decodeItem reads them. */
export function writeHeld(target: Buffer, offset: number, held: Held): void {
  switch (typeof held) {
    case 'number':
      target[offset] = TAG_NUMBER;
      target.writeDoubleLE(held, offset + 1);
      return;
    case 'string':
      target[offset] = TAG_STRING;
      target.write(held, offset + 1, 'utf8');
      return;
    case 'boolean':
    case 'undefined':
      target[offset] = TAG_CONSTANT;
      target[offset + 1] = constants.indexOf(held);
      return;
    default:
      if (held === null) {
        target[offset] = TAG_CONSTANT;
        target[offset + 1] = 1;
      } else if (held instanceof JsonHeld) {
        target[offset] = TAG_JSON;
        target.write(held.text, offset + 1, 'utf8');
      } else target.set(held, offset);
  }
}

/** `held` as wire bytes of its own. */
export function heldToBytes(held: Held): Buffer {
  if (Buffer.isBuffer(held)) return held;
  const bytes = Buffer.allocUnsafe(heldBytes(held));
  writeHeld(bytes, 0, held);
  return bytes;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
