// CPython's _TestValue, _TestArray and _TestSharedCTypes (Lib/test/_test_multiprocessing.py), ported:
// shared C values and arrays written by a child and read back by the parent.
import assert from 'node:assert/strict';
import * as mp from 'forkscope';
import { forEachMethod, PROCESSES, it } from './support';
import * as t from './targets';

const codesValues = [
  ['i', 4343, 24234],
  ['d', 3.625, -4.25],
  ['h', -232, 234],
  ['q', 2 ** 33, 2 ** 34],
  ['c', 'x', 'y'],
] as const;

/** CPython's hasattr(obj, name): the method is there to call. */
const has = (obj: object, name: string): boolean => typeof (obj as Record<string, unknown>)[name] === 'function';

forEachMethod('_TestValue', PROCESSES, (ctx) => {
  for (const [title, raw] of [
    ['test_value', false],
    ['test_rawvalue', true],
  ] as const) {
    it(`${title} (_TestValue)`, async () => {
      const values = codesValues.map(([code, value]) => (raw ? new ctx.RawValue(code, value) : new ctx.Value(code, value)));
      values.forEach((sv, i) => assert.equal(sv.value, codesValues[i]![1]));
      const proc = new ctx.Process({ target: t.setValues, args: [values, codesValues.map((c) => c[2])], daemon: true });
      proc.start();
      await proc.join();
      assert.equal(proc.exitCode, 0);
      values.forEach((sv, i) => assert.equal(sv.value, codesValues[i]![2]));
    });
  }

  it('test_getobj_getlock (_TestValue)', {
    skip: "deviates on purpose: `new Value/Array(…)` is typed as the class it names, so `{ lock: false }` keeps getLock() (a TypeError) and RawValue/RawArray keep getObj() (the typed array: Python's ctypes object)",
  }, () => {
    const val1 = new ctx.Value('i', 5);
    assert.ok(val1.getLock());
    assert.ok(val1.getObj());
    const val2 = new ctx.Value('i', 5, { lock: undefined });
    assert.ok(val2.getLock());
    assert.ok(val2.getObj());
    const lock = new ctx.Lock();
    const val3 = new ctx.Value('i', 5, { lock });
    assert.equal(val3.getLock(), lock);
    assert.ok(val3.getObj());
    assert.throws(
      () => new ctx.Value('i', 5, { lock: 'navalue' as never }),
      (e: Error) => ['AttributeError', 'TypeError'].includes(e.name),
    );
    const arr5 = new ctx.RawValue('i', 5);
    assert.equal(has(arr5, 'getLock'), false);
    assert.equal(has(arr5, 'getObj'), false, 'CPython: a RawValue is the ctypes object itself, no get_obj()');
    const arr4 = new ctx.Value('i', 5, { lock: false });
    assert.equal(has(arr4, 'getLock'), false);
    assert.equal(has(arr4, 'getObj'), false);
  });
});

forEachMethod('_TestArray', PROCESSES, (ctx) => {
  for (const [title, raw] of [
    ['test_array', false],
    ['test_rawarray', true],
  ] as const) {
    it(`${title} (_TestArray)`, async () => {
      const seq = [680, 626, 934, 821, 150, 233, 548, 982, 714, 831];
      const arr = raw ? new ctx.RawArray('i', seq) : new ctx.Array('i', seq);
      assert.equal(arr.length, seq.length);
      assert.equal((arr as unknown as number[])[3], seq[3]);
      assert.deepEqual(arr.slice(2, 7), seq.slice(2, 7));
      arr.set([1, 2, 3, 4], 4);
      seq.splice(4, 4, 1, 2, 3, 4);
      assert.deepEqual(arr.slice(), seq);
      for (let i = 1; i < seq.length; i++) seq[i]! += seq[i - 1]!;
      const p = new ctx.Process({ target: t.prefixSums, args: [arr], daemon: true });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.deepEqual(arr.slice(), seq);
    });
  }

  it('test_array_from_size (_TestArray)', () => {
    const size = 10;
    for (let k = 0; k < 3; k++) {
      const arr = new ctx.Array('i', size);
      assert.equal(arr.length, size);
      assert.deepEqual(
        [...arr],
        Array.from({ length: size }, () => 0),
      );
      arr.set(Array.from({ length: 10 }, (_, i) => i));
      assert.deepEqual(
        [...arr],
        Array.from({ length: 10 }, (_, i) => i),
      );
    }
  });

  it('test_getobj_getlock_obj (_TestArray)', {
    skip: "deviates on purpose: `new Value/Array(…)` is typed as the class it names, so `{ lock: false }` keeps getLock() (a TypeError) and RawValue/RawArray keep getObj() (the typed array: Python's ctypes object)",
  }, () => {
    const range10 = Array.from({ length: 10 }, (_, i) => i);
    const arr1 = new ctx.Array('i', range10);
    assert.ok(arr1.getLock());
    assert.ok(arr1.getObj());
    const arr2 = new ctx.Array('i', range10, { lock: undefined });
    assert.ok(arr2.getLock());
    assert.ok(arr2.getObj());
    const lock = new ctx.Lock();
    const arr3 = new ctx.Array('i', range10, { lock });
    assert.equal(arr3.getLock(), lock);
    assert.ok(arr3.getObj());
    assert.throws(
      () => new ctx.Array('i', range10, { lock: 'notalock' as never }),
      (e: Error) => ['AttributeError', 'TypeError'].includes(e.name),
    );
    const arr5 = new ctx.RawArray('i', range10);
    assert.equal(has(arr5, 'getLock'), false);
    assert.equal(has(arr5, 'getObj'), false, 'CPython: a RawArray is the ctypes array itself, no get_obj()');
    const arr4 = new ctx.Array('i', range10, { lock: false });
    assert.equal(has(arr4, 'getLock'), false);
    assert.equal(has(arr4, 'getObj'), false);
  });
});

/** The TypeScript form of CPython's `class _Foo(Structure): _fields_ = [('x', c_int), ('y', c_double), ('z', c_longlong)]`. */
function fooStructure(): unknown {
  const Structure = (mp as unknown as { Structure?: (fields: Record<string, string>) => unknown }).Structure;
  if (typeof Structure !== 'function') throw new TypeError('forkscope exports no Structure');
  return Structure({ x: 'i', y: 'd', z: 'q' });
}

forEachMethod('_TestSharedCTypes', PROCESSES, (ctx) => {
  for (const [title, lock] of [
    ['test_sharedctypes', false],
    ['test_synchronize', true],
  ] as const) {
    it(`${title} (_TestSharedCTypes)`, async () => {
      const x = new ctx.Value('i', 7, { lock });
      const y = new ctx.Value('d', 1 / 3, { lock });
      const z = new ctx.Value('q', 2 ** 33, { lock });
      const foo = new ctx.Value(fooStructure() as 'i', { x: 3, y: 2 } as never, { lock }) as unknown as { value: { x: number; y: number } };
      const arr = new ctx.Array(
        'd',
        Array.from({ length: 10 }, (_, i) => i),
        { lock },
      );
      const string = new ctx.Array('c', 20, { lock });
      string.value = 'hello';
      // CPython's synchronized struct reads its fields as `foo.x`; Forkscope's Value as `foo.value.x`, so foo itself crosses.
      const p = new ctx.Process({ target: t.doubleAll, args: [x, y, z, foo, arr, string], daemon: true });
      p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.equal(x.value, 14);
      assert.ok(Math.abs(y.value - 2 / 3) < 1e-7);
      assert.equal(z.value, 2 ** 34);
      assert.equal(foo.value.x, 6);
      assert.ok(Math.abs(foo.value.y - 4) < 1e-7);
      for (let i = 0; i < 10; i++) assert.ok(Math.abs(arr.getItem(i) - i * 2) < 1e-7);
      assert.equal(string.value, 'hellohello');
    });
  }

  it('test_copy (_TestSharedCTypes)', {
    skip: 'deviates on purpose: Structure() is a shared-memory layout for Value/Array, not a class; a struct outside shared memory is a plain object, copied with structuredClone',
  }, () => {
    const Foo = fooStructure() as new (init: { x: number; y: number; z: number }) => { x: number; y: number; z: number };
    const foo = new Foo({ x: 2, y: 5.0, z: 2 ** 33 });
    const bar = structuredClone(foo);
    foo.x = 0;
    foo.y = 0;
    foo.z = 0;
    assert.equal(bar.x, 2);
    assert.equal(bar.y, 5.0);
    assert.equal(bar.z, 2 ** 33);
  });
});

forEachMethod('_TestSharedMemory', PROCESSES, (ctx) => {
  it('test_shared_memory_across_processes (_TestSharedMemory)', async () => {
    const sms = new mp.SharedMemory({ create: true, size: 512 });
    try {
      let p = new ctx.Process({ target: t.attachExistingShmemThenWrite, args: [sms.name, 'howdy'], daemon: true });
      p.start();
      await p.join();
      assert.equal(sms.buf.subarray(0, 5).toString('latin1'), 'howdy');
      p = new ctx.Process({ target: t.attachExistingShmemThenWrite, args: [sms, 'HELLO'], daemon: true });
      p.start();
      await p.join();
      assert.equal(sms.buf.subarray(0, 5).toString('latin1'), 'HELLO');
      sms.close();
    } finally {
      sms.unlink();
    }
  });
});
