// Custom managers as Python's register() makes them: exposed methods only, methodToTypeid results as
// proxies, a typeid without a creation method, a BaseProxy subclass, and `await using` starting the manager.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as forkscope from 'forkscope';
import { AutoProxy, BaseManager, BaseProxy, isMainProcess } from 'forkscope';
import { Cursor, Store, Thrower } from '../fixtures/manager-custom-tasks';
import { crossedAs, errorClassNames } from '../fixtures/error-samples';
import { isAlive, waitUntil } from './waiting';

class CursorProxy extends BaseProxy {
  static override _exposed_ = ['next'];
  next(): Promise<unknown> {
    return this._callMethod('next');
  }
}

class StoreManager extends BaseManager {}
StoreManager.register('Store', Store, { methodToTypeid: { cursor: 'Cursor' } });
StoreManager.register('Cursor', Cursor, { create: false });
StoreManager.register('NarrowCursor', null, { create: false, proxytype: CursorProxy });
StoreManager.register('Thrower', Thrower);
StoreManager.register('NarrowStore', Store, { exposed: ['add', 'cursor'], methodToTypeid: { cursor: 'NarrowCursor' } });

type StoreProxy = { add(item: unknown): Promise<number>; cursor(): Promise<any>; _exposed_: readonly string[] };

if (isMainProcess()) {
  describe('BaseManager.register() options', () => {
    it('await using starts the manager at first use and shuts it down; exposed, methodToTypeid, create and proxytype act as in Python', async () => {
      let pid: number | undefined;
      {
        await using manager = new StoreManager();
        const m = manager as unknown as { Store(): Promise<StoreProxy>; NarrowStore(): Promise<StoreProxy> };
        const store = await m.Store();
        pid = manager.pid;
        assert.ok(pid !== undefined && pid !== process.pid, 'the first create() started a server process');
        assert.ok(store instanceof AutoProxy);
        assert.deepEqual([...store._exposed_].sort(), ['add', 'cursor']);
        assert.equal('_hidden' in store, false, 'only public methods by default');
        assert.equal(await store.add('a'), 1);
        assert.equal(await store.add(2n), 2);
        const cursor = (await store.cursor()) as { next(): Promise<unknown>; rewind(): Promise<void>; _exposed_: readonly string[] };
        assert.ok((cursor as unknown) instanceof AutoProxy, 'methodToTypeid: the result is a proxy');
        assert.deepEqual([...cursor._exposed_].sort(), ['next', 'rewind']);
        assert.equal(await cursor.next(), 'a');
        assert.equal(await cursor.next(), 2n);
        await cursor.rewind();
        assert.equal(await cursor.next(), 'a');
        assert.deepEqual(await (cursor as unknown as BaseProxy)._getValue(), { items: ['a', 2n] }, "_getValue(): a copy of the referent's own fields");
        assert.equal('Cursor' in manager, false, 'create: false adds no creation method');
        await assert.rejects(manager.create('NarrowCursor'), TypeError, 'a typeid without a callable cannot be created');
        const narrow = await m.NarrowStore();
        await narrow.add('x');
        const narrowCursor = await narrow.cursor();
        assert.ok(narrowCursor instanceof CursorProxy, "the typeid's proxytype makes the proxy");
        assert.deepEqual(narrowCursor._exposed_, ['next'], "the proxytype's _exposed_ limits what the server serves");
        assert.equal(await narrowCursor.next(), 'x');
        await assert.rejects(narrowCursor._callMethod('rewind'), forkscope.AttributeError);
        // Every class of the runtime's error table comes back as itself (test/unit/errors.test.ts: the broker's crossing).
        const thrower = (await manager.create('Thrower')) as { throwSample(name: string): Promise<never> };
        for (const name of errorClassNames(forkscope)) await assert.rejects(thrower.throwSample(name), crossedAs(forkscope, name));
      }
      assert.equal(await waitUntil(() => !isAlive(pid!), 20_000), true, 'the server is gone at the end of the block');
    });

    it('a wrong registration is a TypeError at register()', () => {
      class Bad extends BaseManager {}
      assert.throws(() => Bad.register('x', Store, { exposed: 'add' as never }), TypeError);
      assert.throws(() => Bad.register('x', Store, { proxytype: Store as never }), TypeError);
      assert.throws(() => Bad.register('x', Store, { methodToTypeid: { cursor: 1 } as never }), TypeError);
      assert.throws(() => Bad.register('not a name', Store), TypeError);
    });
  });
}
