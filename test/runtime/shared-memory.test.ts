// SharedMemory and ShareableList: named segments every process can map, Python's semantics, and the
// promise that a segment goes away when its last user exits, even after kill -9.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SharedMemory, ShareableList } from '../../runtime/src/shared_memory';
import { waitUntil } from './waiting';

const fixture = join(__dirname, '..', 'fixtures', 'shm-memory-child.ts');

function start(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function firstLine(child: ChildProcess, deadlineMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no output from child: ${err}`)), deadlineMs);
    child.stderr!.on('data', (d: Buffer) => (err += d));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0]!);
      }
    });
    child.on('exit', (code) => code !== 0 && code !== null && reject(new Error(`child exited ${code}: ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('SharedMemory', () => {
  it('creates a named segment another process attaches to and writes', async () => {
    const shm = new SharedMemory({ create: true, size: 100 });
    try {
      assert.match(shm.name, /^psm_/);
      assert.equal(shm.size, 100);
      shm.buf.set([1, 2, 3, 4]);
      const child = start(['attach', shm.name]);
      assert.deepEqual(JSON.parse(await firstLine(child)), { size: 100, head: [1, 2, 3, 4] });
      await exited(child);
      assert.equal(shm.buf[4], 99);
    } finally {
      shm.close();
      shm.unlink();
    }
    assert.equal(existsSync(`/dev/shm/${shm.name}`), false);
  });

  it('follows Python on bad arguments and missing names', () => {
    assert.throws(() => new SharedMemory({ create: true, size: 0 }), { name: 'ValueError' });
    assert.throws(() => new SharedMemory({ name: 'psm_forkscope_missing' }), { name: 'FileNotFoundError' });
    assert.throws(() => new SharedMemory({ name: '../etc' }), { name: 'ValueError' });
    const shm = new SharedMemory({ create: true, size: 8 });
    assert.throws(() => new SharedMemory({ name: shm.name, create: true, size: 8 }), { name: 'FileExistsError' });
    shm.close();
    assert.throws(() => shm.buf, { name: 'ValueError' });
    shm.unlink();
  });

  it('removes a segment once its last user is killed with SIGKILL', async () => {
    const creator = start(['create-and-wait']);
    try {
      const name = await firstLine(creator);
      const path = `/dev/shm/${name}`;
      assert.equal(existsSync(path), true);
      const attacher = start(['attach-and-wait', name]);
      try {
        assert.equal(await firstLine(attacher), 'attached 7');
        creator.kill('SIGKILL');
        await exited(creator);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(existsSync(path), true, 'still held by the attacher');
        attacher.kill('SIGKILL');
        assert.equal(await waitUntil(() => !existsSync(path), 10_000), true, 'gone after the last user was killed');
      } finally {
        attacher.kill('SIGKILL');
      }
    } finally {
      creator.kill('SIGKILL');
    }
  });
});

describe('ShareableList', () => {
  it('holds numbers, strings, bytes, booleans and null across processes', async () => {
    const sl = new ShareableList([41, 2.5, 'hello', Buffer.from('ab'), true, null]);
    try {
      assert.equal(sl.length, 6);
      assert.equal(sl[0], 41);
      assert.equal(sl[-1], null);
      assert.equal(sl.format, 'qd8s8b?x');
      assert.equal(sl.index('hello'), 2);
      assert.equal(sl.count(41), 1);
      assert.throws(() => (sl[2] = 'x'.repeat(9)), { name: 'ValueError' });
      assert.throws(() => sl[6], { name: 'IndexError' });
      const child = start(['list', sl.shm.name]);
      assert.deepEqual(JSON.parse(await firstLine(child)), [41, 2.5, 'hello', { type: 'Buffer', data: [97, 98] }, true, null]);
      await exited(child);
      assert.deepEqual(sl.toArray().slice(0, 3), [42, 2.5, 'changed']);
    } finally {
      sl.shm.close();
      sl.shm.unlink();
    }
  });
});

describe('SharedMemory and Python', () => {
  it("Python's multiprocessing.shared_memory attaches to a segment by its name and writes it", async (t) => {
    const python = spawnSync('python3', ['-c', 'import multiprocessing.shared_memory'], { timeout: 20_000 });
    if (python.status !== 0) return t.skip('python3 is not installed');
    const shm = new SharedMemory({ create: true, size: 16 });
    try {
      shm.buf.write('node', 0);
      // Python registers attached segments with its resource tracker, which would unlink ours at exit.
      const script = [
        'import sys',
        'from multiprocessing import shared_memory, resource_tracker',
        'shm = shared_memory.SharedMemory(name=sys.argv[1])',
        'resource_tracker.unregister(shm._name, "shared_memory")',
        'print(bytes(shm.buf[:4]).decode())',
        'shm.buf[4:10] = b"python"',
        'shm.close()',
      ].join('\n');
      const result = spawnSync('python3', ['-c', script, shm.name], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout.trim(), 'node');
      assert.equal(shm.buf.toString('utf8', 0, 10), 'nodepython');
    } finally {
      shm.close();
      shm.unlink();
    }
  });
});
