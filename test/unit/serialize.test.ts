// encode/decode: values cross by structured clone, errors keep name/message/stack, bad values name their path.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serialize, deserialize } from 'node:v8';
import {
  encode,
  decode,
  decodeAsync,
  decodeThrown,
  decodeThrownAsync,
  encodeThrown,
  holdsReducible,
  serializeReducing,
  deserializeReduced,
} from '../../runtime/src/serialize';
import { reduceSymbol, registerReviver } from '../../runtime/src/reduction';
import { Empty, RemoteError, PicklingError } from '../../runtime/src/errors';
import { decodeWith, managerRef, type ObjectToken } from '../../runtime/src/managers/codec';
import * as cjs from '../fixtures/runtime-targets-cjs';

const ctx = () => ({ startMethod: 'spawn' as const, transfer: [] });
const roundTrip = (v: unknown) => decode(deserialize(serialize(encode(v, ctx(), 'args'))));

describe('serialize', () => {
  it('keeps Map, Set, Date, BigInt, typed arrays and nesting', () => {
    const value = { m: new Map([[1, 'a']]), s: new Set([2n]), d: new Date(5), t: new Uint8Array([1, 2]), deep: [[{ x: 1 }]] };
    assert.deepEqual(roundTrip(value), value);
  });
  it('names the path of a function that cannot cross', () => {
    assert.throws(() => encode([1, { callback: () => 0 }], ctx(), 'args'), { name: 'PicklingError', message: /^args\[1\]\.callback is a function/ });
    assert.throws(() => encode({ s: Symbol('x') }, ctx(), 'args'), { message: /args\.s is a symbol/ });
  });
  it('replaces Reducible objects by descriptors and revives them', () => {
    registerReviver('TestThing', (state) => ({ revived: state }));
    const thing = { [reduceSymbol]: () => ({ kind: 'TestThing', state: 7 }) };
    assert.deepEqual(roundTrip({ a: [thing] }), { a: [{ revived: 7 }] });
  });
  it("keeps an error's name, message, stack and fields, and Python-named classes", () => {
    class MyError extends Error {
      code = 'E_X';
      constructor() {
        super('boom');
        this.name = 'MyError';
      }
    }
    const err = new MyError();
    // A class nobody can import by name comes back as a RemoteError carrying its name.
    const back = decodeThrown(deserialize(serialize(encodeThrown(err)))) as RemoteError & { code: string };
    assert.ok(back instanceof RemoteError);
    assert.equal(back.name, 'MyError');
    assert.equal(back.remoteName, 'MyError');
    assert.equal(back.message, 'boom');
    assert.equal(back.stack, err.stack);
    assert.equal(back.code, 'E_X');
    const empty = decodeThrown(deserialize(serialize(encodeThrown(new Empty())))) as Error;
    assert.ok(empty instanceof Empty);
    assert.equal(decodeThrown(deserialize(serialize(encodeThrown(42)))), 42);
  });
  it('sends an exported function by reference and refuses a closure, naming its path', async () => {
    const wire = deserialize(serialize(encode({ fn: cjs.square, list: [cjs.square] }, ctx(), 'args')));
    const back = decode(wire) as { fn: unknown; list: unknown[] };
    assert.equal(back.fn, cjs.square);
    assert.equal(back.list[0], cjs.square);
    const esm = await import('../fixtures/runtime-targets-esm.mjs');
    const viaImport = (await decodeAsync(deserialize(serialize(encode([esm.cube], ctx(), 'args'))))) as unknown[];
    assert.equal(viaImport[0], esm.cube);
    const k = 2;
    assert.throws(
      () => encode({ cb: (x: number) => x * k }, ctx(), 'item'),
      (e: Error) => e instanceof PicklingError && /^item\.cb is a function .*export/.test(e.message),
    );
    assert.equal(holdsReducible(cjs.square), true);
    assert.equal(holdsReducible({ a: [1, { f: cjs.square }] }), true);
    assert.equal(deserializeReduced(serializeReducing({ f: cjs.square }, 'obj')) instanceof Object, true);
  });
  it('brings an exported Error subclass back as its own class, without running its constructor', async () => {
    const { InsufficientFunds } = await import('../fixtures/pool-tasks');
    const err = new InsufficientFunds('needs 3 more');
    const back = (await decodeThrownAsync(deserialize(serialize(encodeThrown(err))))) as Error;
    assert.ok(back instanceof InsufficientFunds);
    assert.equal(back.name, 'InsufficientFunds');
    assert.equal(back.message, 'needs 3 more');
    assert.equal(back.stack, err.stack);
  });
  it('survives an error whose getter throws', () => {
    const err = new Error('x');
    Object.defineProperty(err, 'bad', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    assert.equal((decodeThrown(encodeThrown(err)) as Error).message, 'x');
  });
  it('holdsReducible finds a runtime object at any depth, in arrays, maps and sets, and ends on cycles and shared parts', () => {
    const reducible = { [reduceSymbol]: () => ({ kind: 'test', state: null }) };
    assert.equal(holdsReducible({ a: 1, b: [1, 'x'], c: { d: new Date(1), e: new Uint8Array(2) } }), false);
    assert.equal(holdsReducible([[{ x: reducible }]]), true);
    assert.equal(holdsReducible({ m: new Map([[1, { deep: reducible }]]) }), true);
    assert.equal(holdsReducible({ s: new Set([reducible]) }), true);
    let deep: object = { end: reducible };
    for (let i = 0; i < 200; i++) deep = { inner: deep };
    assert.equal(holdsReducible(deep), true);
    const cycle: Record<string, unknown> = { x: 1 };
    cycle.self = cycle;
    cycle.list = [cycle, { back: cycle }];
    assert.equal(holdsReducible(cycle), false);
    // 2^40 paths through 40 shared objects: looked at once each once the scan keeps track.
    let shared: object = { leaf: 1 };
    for (let i = 0; i < 40; i++) shared = { a: shared, b: shared };
    assert.equal(holdsReducible(shared), false);
  });
  it('revives a kind with the revivers handed to one decode(), ahead of the registry, for that call only', () => {
    registerReviver('TestOwn', (state) => ({ registry: state }));
    const thing = { [reduceSymbol]: () => ({ kind: 'TestOwn', state: 3 }) };
    const wire = () => deserialize(serialize(encode([thing], ctx(), 'args')));
    assert.deepEqual(decode(wire(), new Map([['TestOwn', (state: unknown) => ({ own: state })]])), [{ own: 3 }]);
    assert.deepEqual(decode(wire()), [{ registry: 3 }]);
  });
  it('rebuilds a manager reference by the side given to decodeWith(), nested sides apart, and nowhere else', () => {
    const token = (oid: string): ObjectToken => ({ oid, typeid: 'dict', exposed: ['get'] });
    const ref = (oid: string) => ({ [reduceSymbol]: () => managerRef(token(oid)) });
    const wire = (value: unknown) => deserialize(serialize(encode(value, ctx(), 'args')));
    const inner = { revive: (t: ObjectToken) => `inner:${t.oid}` };
    // The outer side decodes another message with its own side while reviving: each reference keeps its side.
    const outer = { revive: (t: ObjectToken) => `outer:${t.oid}+${(decodeWith(wire([ref('x')]), inner) as string[])[0]}` };
    assert.deepEqual(decodeWith(wire([ref('a'), { b: ref('b') }]), outer), ['outer:a+inner:x', { b: 'outer:b+inner:x' }]);
    assert.throws(() => decode(wire([ref('c')])), { name: 'TypeError', message: 'a reference to dict object c can only be read from its manager' });
    assert.throws(() => decodeWith(wire([{ [reduceSymbol]: () => ({ kind: managerRef(token('d')).kind, state: 5 }) }]), inner), {
      name: 'TypeError',
      message: 'a malformed manager reference',
    });
  });
});
