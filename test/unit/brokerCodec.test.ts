import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { heldBytes, heldFromBytes, hold, release, writeHeld } from '../../runtime/src/broker/codec';

/** Through the bytes a queue stores, as another process reads them. */
function roundTrip(value: unknown): unknown {
  const held = hold(value);
  const bytes = Buffer.alloc(heldBytes(held));
  writeHeld(bytes, 0, held);
  return release(heldFromBytes(bytes));
}

describe('broker codec', () => {
  it('carries plain data exactly, by JSON or structured clone', () => {
    const values: unknown[] = [
      { id: 1, op: 'add', v: 0.5 },
      [1, 'two', null, true, { nested: [3] }],
      { __proto__: 1, constructor: 'x', 10: 'a', b: 'é\ud800' },
      { minusZero: -0, nan: NaN, inf: -Infinity, undef: undefined },
      [1, , 3],
      new Map([['k', 1n]]),
      { when: new Date(5), bytes: new Uint8Array([1, 2]) },
    ];
    for (const value of values) assert.deepStrictEqual(roundTrip(value), value);
    const minus = roundTrip({ z: -0 }) as { z: number };
    assert.ok(Object.is(minus.z, -0));
  });

  it('keeps shared references and cycles', () => {
    const shared = { n: 1 };
    const both = roundTrip({ a: shared, b: shared }) as { a: object; b: object };
    assert.equal(both.a, both.b);
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    const back = roundTrip(cyclic) as { self: unknown };
    assert.equal(back.self, back);
  });

  it('drops a class instance prototype as structured clone does', () => {
    class Point {
      x = 1;
    }
    const back = roundTrip(new Point());
    assert.deepStrictEqual(back, { x: 1 });
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
  });
});
