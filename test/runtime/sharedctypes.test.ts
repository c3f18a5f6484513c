// Value/Array/RawValue/RawArray over real shared memory: in-process semantics, a worker thread and
// real child processes writing the same memory, the lock across processes, and no segment left over.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { runProgram } from './runProgram';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Value, RawValue, RawArray, SharedArray } from '../../runtime/src/sharedctypes';
import { reduceSymbol, type ReducedObject } from '../../runtime/src/reduction';
import type { StartMethod } from '../../runtime/src/protocol';

const fixture = join(__dirname, '..', 'fixtures', 'shm-child.ts');
const run = (args: string[]) => runProgram(fixture, { args });

function reduce(value: unknown, startMethod: StartMethod = 'spawn'): ReducedObject {
  return (value as { [reduceSymbol]: (c: { startMethod: StartMethod; transfer: [] }) => ReducedObject })[reduceSymbol]({ startMethod, transfer: [] });
}

function ourSegments(): string[] {
  return readdirSync('/dev/shm').filter((f) => f.startsWith(`forkscope-${process.pid}-`));
}

describe('Value', () => {
  it('reads and writes .value synchronously, with Python typecode semantics', () => {
    const i = new Value('i', 7);
    assert.equal(i.value, 7);
    i.value += 1;
    assert.equal(i.value, 8);
    i.value = 2 ** 31;
    assert.equal(i.value, -(2 ** 31), "'i' wraps like a C int");
    const b = new RawValue('B', 300);
    assert.equal(b.value, 44);
    const d = new Value('d', 0.5);
    assert.equal(d.value, 0.5);
    const q = new Value('q', 2 ** 40);
    assert.equal(q.value, 2 ** 40);
    const c = new Value('c', 'x');
    assert.equal(c.value, 'x');
    const u = new RawValue('u', 'é');
    assert.equal(u.value, 'é');
    assert.throws(() => new Value('z' as 'i', 0), TypeError);
  });

  it('getLock() is an RLock; { lock: false } has none', async () => {
    const v = new Value('i', 0);
    assert.equal(await v.getLock().acquire(), true);
    assert.equal(await v.acquire({ timeout: 10 }), true, 'reentrant');
    v.release();
    v.release();
    assert.throws(() => v.release(), { name: 'RuntimeError' });
    assert.throws(() => new Value('i', 0, { lock: false }).getLock(), TypeError);
  });
});

describe('Array', () => {
  it('indexes, iterates and slices shared memory', () => {
    const arr = new SharedArray('i', [2, 3, 6, 7]);
    assert.equal(arr.length, 4);
    assert.equal(arr[2], 6);
    arr[2] = arr[2]! ** 2;
    assert.equal(arr[-2], 36);
    assert.deepEqual([...arr], [2, 3, 36, 7]);
    assert.deepEqual(arr.slice(1, 3), [3, 36]);
    assert.throws(() => arr[4], { name: 'IndexError' });
    assert.equal(2 in arr, true);
    assert.equal(9 in arr, false);
    assert.ok(arr instanceof SharedArray);
    const zeros = new RawArray('d', 3);
    assert.deepEqual(zeros.toArray(), [0, 0, 0]);
    const text = new SharedArray('c', 8);
    text.value = 'hi';
    assert.equal(text.value, 'hi');
    assert.equal(text.raw.length, 8);
  });
});

describe('shared memory across threads and processes', () => {
  after(() => assert.deepEqual(ourSegments(), [], 'no named segment is left in /dev/shm'));

  it('a worker thread writes the same memory (thread start method)', async () => {
    const v = new Value('i', 5);
    const reduced = reduce(v, 'thread');
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const a = new Int32Array(workerData.state.block.buffer, workerData.state.block.offset, 1);
       Atomics.add(a, 0, 10);`,
      { eval: true, workerData: reduced },
    );
    await new Promise((resolve, reject) => worker.on('exit', resolve).on('error', reject));
    assert.equal(v.value, 15);
  });

  it('a child process sees and makes writes with no message (spawn)', async () => {
    const v = new Value('i', 42);
    const arr = new RawArray('d', [1, 2, 3]);
    const result = await run(['write', JSON.stringify([reduce(v), reduce(arr)])]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { value: 42, array: [1, 2, 3] });
    assert.equal(v.value, 1234);
    assert.deepEqual(arr.toArray(), [1, 2.5, -1]);
  });

  it('getLock() keeps a two-process counter exact', async () => {
    const v = new Value('i', 0);
    const args = ['count', JSON.stringify([reduce(v)]), '2000'];
    const [a, b] = await Promise.all([run(args), run(args)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(v.value, 4000);
  });

  it('a lock whose holder was killed is taken over with ownerDied', async () => {
    const v = new Value('i', 0);
    const lock = v.getLock() as unknown as { acquire(o?: { timeout?: number }): Promise<boolean>; ownerDied: boolean; release(): void };
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, 'hold', JSON.stringify([reduce(v)])], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('child never held the lock')), 60_000);
        child.stdout.on('data', (d: Buffer) => d.toString().includes('holding') && (clearTimeout(timer), resolve()));
      });
      assert.equal(await lock.acquire({ timeout: 50 }), false);
      child.kill('SIGKILL');
      assert.equal(await lock.acquire({ timeout: 10_000 }), true);
      assert.equal(lock.ownerDied, true);
      lock.release();
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('without the native binding', () => {
  it('still shares with threads, and names the cause when a process needs it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'fixtures', 'shm-fallback.ts')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORKSCOPE_SHM_BINDING: 'none' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, err);
    const result = JSON.parse(out) as { value: number; array: number[]; shm: number; spawnError: string; attachError: string };
    assert.equal(result.value, 42, 'a worker thread wrote the same SharedArrayBuffer');
    assert.deepEqual(result.array, [1, 5]);
    assert.equal(result.shm, 9);
    assert.match(result.spawnError, /cannot share this Value with a "spawn" process: the native binding is turned off/);
    assert.match(result.attachError, /cannot attach to shared memory "psm_anything": the native binding is turned off/);
  });
});
