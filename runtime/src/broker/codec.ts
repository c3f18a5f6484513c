// How items and messages become bytes: structured clone (node:v8) for everything, with a one-byte-tag
// shortcut for numbers, strings, booleans, null and undefined, the common small messages. Pure.
import { deserialize, serialize } from 'node:v8';

// v8's format starts with 0xFF (its version tag), so these leading bytes cannot be mistaken for it.
const TAG_NUMBER = 0xf0;
const TAG_STRING = 0xf1;
const TAG_CONSTANT = 0xf2;
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
  switch (bytes[0]) {
    case TAG_NUMBER:
      return bytes.readDoubleLE(1);
    case TAG_STRING:
      return bytes.toString('utf8', 1);
    case TAG_CONSTANT:
      return constants[bytes[1]!];
    default:
      return deserialize(bytes);
  }
}
