// How a queue holds items and puts them on the wire: primitives as themselves, the rest as clone bytes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeItem, heldBytes, heldFromBytes, heldToBytes, hold, release, writeHeld } from '../../runtime/src/broker/codec';

const values: unknown[] = [0, -0, 1.5, NaN, -Infinity, 2 ** 53, '', 'ascii', 'ünïcödé ✓ 𝄞', 'x'.repeat(70), 'é'.repeat(5000), true, false, null, undefined,
  { a: 1, b: [2, 'three'] }, new Map([[1, 'a']]), 10n, new Uint8Array([1, 2, 3]), Buffer.from('buf'), [undefined, null]];

describe('broker codec: held items', () => {
  it('a primitive is held as itself; an object (or a BigInt) as bytes that revive to an equal, fresh copy', () => {
    for (const value of values) {
      const held = hold(value);
      if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
        assert.ok(Buffer.isBuffer(held));
        const back = release(held);
        assert.deepEqual(back, value);
        if (typeof value === 'object') assert.notEqual(back, value);
      } else assert.ok(Object.is(held, value), String(value));
    }
  });

  it('wire bytes are exactly heldBytes() long, read back the same, and decode as items', () => {
    for (const value of values) {
      const held = hold(value);
      const size = heldBytes(held);
      const target = Buffer.alloc(size + 6, 0xee);
      writeHeld(target, 3, held);
      assert.equal(target[2], 0xee);
      assert.equal(target[size + 3], 0xee, `${String(value)} wrote past its size`);
      const bytes = target.subarray(3, 3 + size);
      assert.deepEqual(bytes, heldToBytes(held));
      const back = heldFromBytes(bytes);
      assert.deepEqual(release(back), release(held));
      assert.deepEqual(decodeItem(bytes), release(held));
    }
  });
});
