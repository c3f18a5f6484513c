// Value, Array, RawValue, SharedMemory and ShareableList passed to real children through Process, in
// every start method: the parent sees each child's writes with no message sent back.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Array as SharedArray, Process, RLock, RawValue, SharedMemory, ShareableList, Value, activeChildren, isMainProcess } from 'forkscope';
import { addMany, fillSegment, negate, writeRaw } from '../fixtures/shm-tasks';

const METHODS = ['spawn', 'thread', 'forkserver', 'inline'] as const;

async function run(p: Process): Promise<void> {
  p.start();
  await p.join({ timeout: 60_000 });
  assert.equal(p.exitCode, 0, `${p.name} exited ${p.exitCode}`);
}

if (isMainProcess()) {
  const named: string[] = [];
  after(() => {
    assert.deepEqual(activeChildren(), []);
  });

  for (const startMethod of METHODS) {
    describe(`shared memory through Process (${startMethod})`, () => {
      it('a child negates an Array and sets a Value', async () => {
        const n = new Value('d', 0);
        const a = new SharedArray('i', [0, 1, 2, 3]);
        await run(new Process({ target: negate, args: [n, a], startMethod }));
        assert.equal(n.value, 3.5);
        assert.deepEqual([...a], [0, -1, -2, -3]);
      });

      it('two children count under getLock() without losing an update', async () => {
        const v = new Value('i', 0);
        const children = [0, 1].map(() => new Process({ target: addMany, args: [v, 300], startMethod }));
        for (const child of children) child.start();
        for (const child of children) await child.join({ timeout: 60_000 });
        assert.equal(v.value, 600);
      });

      it('a Value may be guarded by a given RLock', async () => {
        const lock = new RLock();
        const v = new Value('i', 0, { lock });
        assert.equal(v.getLock(), lock);
        const children = [0, 1].map(() => new Process({ target: addMany, args: [v, 100], startMethod }));
        for (const child of children) child.start();
        for (const child of children) await child.join({ timeout: 60_000 });
        assert.equal(v.value, 200);
      });

      it('RawValue q and SharedMemory/ShareableList cross too', async () => {
        const raw = new RawValue('q', 0);
        await run(new Process({ target: writeRaw, args: [raw], startMethod }));
        assert.equal(raw.value, 2 ** 40 + 1);
        const shm = new SharedMemory({ create: true, size: 64 });
        const list = new ShareableList(['parent!', 21]);
        named.push(shm.name, list.shm.name);
        try {
          await run(new Process({ target: fillSegment, args: [shm, list], startMethod }));
          assert.equal(shm.buf.toString('utf8', 0, 10), 'from child');
          assert.deepEqual(list.toArray(), ['child', 42]);
        } finally {
          shm.close();
          shm.unlink();
          list.shm.close();
          list.shm.unlink();
        }
      });
    });
  }

  describe('shared memory cleanup', () => {
    it('leaves no segment of this test in /dev/shm', () => {
      assert.equal(named.length, METHODS.length * 2);
      const present = new Set(readdirSync('/dev/shm'));
      assert.deepEqual(
        named.filter((name) => present.has(name)),
        [],
      );
      assert.deepEqual(
        [...present].filter((f) => f.startsWith(`forkscope-${process.pid}-`)),
        [],
      );
    });
  });
}
