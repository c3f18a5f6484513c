// Shared values that are what they claim (issue 15): every typecode takes what Python's ctypes takes
// and nothing else, a size no memory can hold is a MemoryError naming it, and Structure() gives
// structs in Value and Array, across processes as Python's sharedctypes example shows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { runProgram } from './runProgram';
import { Value, RawValue, SharedArray, RawArray, Structure, MemoryError } from '../../runtime/src/index';
import { ValueError } from '../../runtime/src/errors';

describe('Value', () => {
  it('rejects what its typecode cannot hold, as ctypes does', () => {
    assert.throws(() => new Value('d', 'abc' as unknown as number), { name: 'TypeError', message: /typecode 'd' takes a real number, not the string "abc"/ });
    assert.throws(() => new Value('i', 1.5), { name: 'TypeError', message: /typecode 'i' takes an integer, not the number 1.5/ });
    assert.throws(() => new Value('i', NaN), TypeError);
    assert.throws(() => new Value('q', '5' as unknown as number), TypeError);
    assert.throws(() => new Value('c', 'ab'), TypeError);
    assert.throws(() => new Value('c', 'é'.repeat(1) + 'x'), TypeError);
    assert.throws(() => new Value('c', 300 as unknown as string), TypeError);
    assert.throws(() => new Value('u', 97 as unknown as string), TypeError);
    assert.throws(() => new Value('u', 'ab'), TypeError);
    const v = new RawValue('i', 1);
    assert.throws(() => (v.value = 'x' as unknown as number), TypeError);
    assert.equal(v.value, 1, 'a rejected write leaves the value');
  });

  it('takes what ctypes takes, wrapping integers to the C width', () => {
    assert.equal(new Value('b', 300).value, 44);
    assert.equal(new Value('B', -1).value, 255);
    assert.equal(new Value('i', 2 ** 40).value, 0);
    assert.equal(new Value('i', true as unknown as number).value, 1);
    assert.equal(new Value('Q', -1n).value, 2 ** 64);
    assert.equal(new Value('d', 3n).value, 3);
    assert.equal(new Value('f', 1e300).value, Infinity);
    assert.equal(new Value('c', 'a').value, 'a');
    assert.equal(new Value('c', 98 as unknown as string).value, 'b');
    assert.equal(new Value('c', Buffer.from('z') as unknown as string).value, 'z');
    assert.equal(new Value('u', '😀').value, '😀');
  });
});

describe('Array', () => {
  it('checks every element and write', () => {
    assert.throws(() => new SharedArray('i', [1, 'x' as unknown as number]), {
      name: 'TypeError',
      message: /typecode 'i' takes an integer, not the string "x"/,
    });
    const a = new RawArray('d', 2);
    assert.throws(() => (a[0] = 'x' as unknown as number), TypeError);
    assert.throws(() => a.set([1, {} as unknown as number]), TypeError);
    assert.throws(() => new SharedArray('i', 2.5), TypeError);
    assert.throws(
      () => new SharedArray('i', -1),
      (e: unknown) => e instanceof ValueError && e.name === 'ValueError',
    );
  });

  it('a size no shared memory can hold is a MemoryError naming it', () => {
    assert.throws(
      () => new SharedArray('i', 1e12),
      (e: unknown) => {
        assert.ok(e instanceof MemoryError);
        assert.equal(e.name, 'MemoryError');
        assert.match(e.message, /cannot allocate 4000000000000 bytes of shared memory for Array\("i", 1000000000000\)/);
        assert.doesNotMatch(e.message, /map\(fd, length\)/);
        return true;
      },
    );
    assert.throws(() => new RawArray('d', 2 ** 53), MemoryError);
  });
});

describe('Structure', () => {
  it('lays fields out as a C compiler does', () => {
    assert.equal(Structure({ x: 'd', y: 'd' }).size, 16);
    assert.equal(Structure({ a: 'b', d: 'd' }).size, 16);
    assert.equal(Structure({ a: 'b', h: 'h', c: 'c' }).size, 6);
    assert.equal(Structure({ i: 'i', b: 'b' }).size, 8);
    assert.throws(() => Structure({}), TypeError);
    assert.throws(() => Structure({ x: 'z' as 'd' }), TypeError);
  });

  it('a Value of a struct reads and writes its fields in shared memory', () => {
    const Point = Structure({ x: 'd', y: 'd' }, 'Point');
    const p = new Value(Point, { x: 1, y: 2 });
    assert.equal(p.value.x, 1);
    p.value.y += 40;
    assert.deepEqual(JSON.parse(JSON.stringify(p.value)), { x: 1, y: 42 });
    p.value = [5, 6];
    assert.deepEqual([p.value.x, p.value.y], [5, 6]);
    p.value = { y: 7 };
    assert.deepEqual([p.value.x, p.value.y], [5, 7]);
    assert.throws(() => (p.value = { z: 1 } as never), /Point has no field "z"/);
    assert.throws(() => (p.value.x = 'a' as unknown as number), TypeError);
    const mixed = new RawValue(Structure({ n: 'i', flag: 'b', ch: 'c' }), { n: -3, flag: 1, ch: 'q' });
    assert.deepEqual([mixed.value.n, mixed.value.flag, mixed.value.ch], [-3, 1, 'q']);
  });

  it('an Array of structs gives live elements, and plain copies from toArray()', () => {
    const Point = Structure({ x: 'd', y: 'd' }, 'Point');
    const A = new SharedArray(Point, [[1, 2], { x: 3, y: 4 }]);
    assert.equal(A.length, 2);
    A[1].x = 30;
    for (const a of A) a.y *= 10;
    assert.deepEqual(A.toArray(), [
      { x: 1, y: 20 },
      { x: 30, y: 40 },
    ]);
    A[0] = { x: -1, y: -2 };
    assert.equal(A[-2].y, -2);
    assert.equal(inspect(A), 'Array(Point, [ { x: -1, y: -2 }, { x: 30, y: 40 } ])');
    assert.equal(inspect(A[1]), 'Point({ x: 30, y: 40 })');
    assert.equal(inspect(new RawArray('i', [1, 2])), 'RawArray("i", [ 1, 2 ])');
    const empty = new RawArray(Point, 3);
    assert.deepEqual(empty.toArray(), [
      { x: 0, y: 0 },
      { x: 0, y: 0 },
      { x: 0, y: 0 },
    ]);
  });

  for (const method of ['spawn', 'thread']) {
    it(`Python's sharedctypes example with Point, in a "${method}" child`, async () => {
      const run = await runProgram(join(__dirname, '..', 'fixtures', 'sharedctypes-point.ts'), { args: [method], deadlineMs: 90_000 });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.stdout.trim().split('\n'), [
        '49',
        '0.1111111111111111',
        'HELLO WORLD',
        JSON.stringify([
          [3.515625, 39.0625],
          [33.0625, 4],
          [5.640625, 90.25],
        ]),
      ]);
    });
  }
});
