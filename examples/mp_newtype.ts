// Python's Doc/includes/mp_newtype.py: a BaseManager subclass serving a class (its public methods, or only
// those named in `exposed`), a generator through a BaseProxy subclass, and a "module" of functions.
// Proxy calls return Promises where Python's block; the manager shuts down at the end of `await using`.
import assert from 'node:assert/strict';
import { BaseManager, BaseProxy, isMainProcess } from 'forkscope';

export class Foo {
  f(): void {
    console.log('you called Foo.f()');
  }
  g(): void {
    console.log('you called Foo.g()');
  }
  _h(): void {
    console.log('you called Foo._h()');
  }
}

// A simple generator function
export function* baz(): Generator<number> {
  for (let i = 0; i < 10; i++) yield i * i;
}

// Proxy type for generator objects: `for await` calls next() in the manager
export class GeneratorProxy extends BaseProxy implements AsyncIterableIterator<number> {
  static override _exposed_ = ['next'];
  [Symbol.asyncIterator](): this {
    return this;
  }
  next(): Promise<IteratorResult<number>> {
    return this._callMethod('next');
  }
}

// JavaScript has no operator module: its arithmetic, as one object of functions
const operator = {
  abs: (a: number) => Math.abs(a),
  add: (a: number, b: number) => a + b,
  eq: (a: unknown, b: unknown) => a === b,
  mul: (a: number, b: number) => a * b,
  neg: (a: number) => -a,
  pow: (a: bigint, b: bigint) => a ** b,
  sub: (a: number, b: number) => a - b,
  truediv: (a: number, b: number) => a / b,
};

// Function to return the operator "module"
export function getOperatorModule(): typeof operator {
  return operator;
}

type Proxied<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never } & { readonly _exposed_: readonly string[] };

class MyManager extends BaseManager {}
interface MyManager {
  Foo1(): Promise<Proxied<Pick<Foo, 'f' | 'g'>>>;
  Foo2(): Promise<Proxied<Pick<Foo, 'g' | '_h'>>>;
  baz(): Promise<GeneratorProxy>;
  operator(): Promise<Proxied<typeof operator>>;
}

// register the Foo class; make `f()` and `g()` accessible via proxy
MyManager.register('Foo1', Foo);

// register the Foo class; make `g()` and `_h()` accessible via proxy
MyManager.register('Foo2', Foo, { exposed: ['g', '_h'] });

// register the generator function baz; use `GeneratorProxy` to make proxies
MyManager.register('baz', baz, { proxytype: GeneratorProxy });

// register getOperatorModule(); make public functions accessible via proxy
MyManager.register('operator', getOperatorModule);

async function test(): Promise<void> {
  await using manager = new MyManager();
  await manager.start();

  console.log('-'.repeat(20));

  const f1 = await manager.Foo1();
  await f1.f();
  await f1.g();
  assert.ok(!('_h' in f1));
  assert.deepEqual([...f1._exposed_].sort(), ['f', 'g'].sort());

  console.log('-'.repeat(20));

  const f2 = await manager.Foo2();
  await f2.g();
  await f2._h();
  assert.ok(!('f' in f2));
  assert.deepEqual([...f2._exposed_].sort(), ['g', '_h'].sort());

  console.log('-'.repeat(20));

  const it = await manager.baz();
  const printed: string[] = [];
  for await (const i of it) printed.push(`<${i}>`);
  console.log(printed.join(' '));

  console.log('-'.repeat(20));

  const op = await manager.operator();
  console.log('op.add(23, 45) =', await op.add(23, 45));
  console.log('op.pow(2, 94) =', String(await op.pow(2n, 94n)));
  console.log('op._exposed_ =', op._exposed_);
}

if (isMainProcess()) void test();
