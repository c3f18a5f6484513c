import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipe, Queue, connection, EOFError, BrokenPipeError, type Connection } from '../../runtime/src/index';
import { start, killAll } from '../fixtures/sync-harness';
import { leftBehindIn, runProgram } from './runProgram';
import type { StartMethod } from '../../runtime/src/protocol';

after(async () => {
  assert.equal(await killAll(), 0, 'a test left a child running');
});

describe('Pipe (in this process)', () => {
  it('send()/recv() both ways, objects cloned; bytes as bytes', async () => {
    const [a, b] = Pipe();
    await a.send({ m: new Map([[1, 2n]]) });
    assert.deepEqual(await b.recv(), { m: new Map([[1, 2n]]) });
    await b.sendBytes(Buffer.from('hello world'), 6);
    assert.deepEqual(await a.recvBytes(), Buffer.from('world'));
  });

  it('recv() rejects EOFError once the other end is closed, after what was sent', async () => {
    const [a, b] = Pipe();
    await a.send(1);
    a.close();
    assert.equal(await b.recv(), 1);
    await assert.rejects(b.recv(), EOFError);
    assert.throws(() => b.send(2), BrokenPipeError);
  });

  it('Pipe({ duplex: false }) gives [receiver, sender]', async () => {
    const [receiver, sender] = Pipe({ duplex: false });
    assert.throws(() => receiver.send(1), { name: 'OSError' });
    await sender.send('x');
    assert.equal(await receiver.recv(), 'x');
  });

  it('poll() answers at once, or after its timeout', async () => {
    const [a, b] = Pipe();
    assert.equal(await b.poll(), false);
    assert.equal(await b.poll(20), false);
    const later = b.poll(null);
    await a.send(1);
    assert.equal(await later, true);
    assert.equal(await b.recv(), 1);
  });

  it('a Connection sent over a pipe arrives as a working copy of its end', async () => {
    const [a, b] = Pipe();
    const [c, d] = Pipe();
    await c.send({ end: b, n: 1 });
    const got = await d.recv<{ end: Connection; n: number }>();
    assert.equal(got.n, 1);
    b.close();
    await a.send('hi');
    assert.equal(await got.end.recv(), 'hi');
    await got.end.send('back');
    assert.equal(await a.recv(), 'back');
    got.end.close();
    await assert.rejects(a.recv(), EOFError);
  });

  it('a Connection put in a Queue arrives as a working copy of its end, not as {}', async () => {
    const [a, b] = Pipe();
    const q = new Queue<{ end: Connection; n: number }>();
    await q.put({ end: b, n: 1 });
    const got = await q.get();
    assert.equal(got.n, 1);
    b.close();
    await a.send('hi');
    assert.equal(await got.end.recv(), 'hi');
    got.end.close();
    await assert.rejects(a.recv(), EOFError);
  });

  it('connection.wait() resolves the ready ends, or [] on timeout', async () => {
    const [a1, b1] = Pipe();
    const [a2, b2] = Pipe();
    assert.deepEqual(await connection.wait([b1, b2], { timeout: 20 }), []);
    const waited = connection.wait([b1, b2]);
    await a2.send('go');
    assert.deepEqual(await waited, [b2]);
    a1.close();
    assert.deepEqual(await connection.wait([b1]), [b1]);
  });
});

for (const method of ['spawn', 'thread'] as StartMethod[]) {
  describe(`Pipe across a ${method === 'spawn' ? 'process' : 'worker thread'}`, () => {
    it('a child echoes; closing our copy of its end after start() does not affect it', { timeout: 20_000 }, async () => {
      const [mine, theirs] = Pipe();
      const child = start('pipe-echo', [theirs], [], method);
      theirs.close();
      await mine.send({ n: 1, when: new Date(7) });
      assert.deepEqual(await mine.recv(), { n: 1, when: new Date(7) });
      const big = Buffer.alloc(3 * 1024 * 1024, 9);
      await mine.sendBytes(big);
      assert.deepEqual(await mine.recvBytes(), big);
      mine.close();
      assert.equal((await child.outcome).result, 2);
    });

    it('a child sends then closes: every message arrives, then EOFError', { timeout: 20_000 }, async () => {
      const [receiver, sender] = Pipe({ duplex: false });
      const child = start('pipe-send', [sender], [300], method);
      sender.close();
      const got: number[] = [];
      await assert.rejects(async () => {
        for (;;) got.push(await receiver.recv<number>());
      }, EOFError);
      assert.deepEqual(
        got,
        Array.from({ length: 300 }, (_, i) => i),
      );
      assert.equal((await child.outcome).result, 300);
    });

    it('a Connection put in a Queue works in the child that gets it', { timeout: 20_000 }, async () => {
      const q = new Queue<{ end: Connection }>();
      const child = start('queue-conn-echo', [q], [], method);
      const [mine, theirs] = Pipe();
      await q.put({ end: theirs });
      theirs.close();
      await mine.send('ping');
      assert.deepEqual(await mine.recv(), { got: 'ping' });
      assert.equal((await child.outcome).result, 'answered');
    });

    it('two children talk directly through a pipe this process created', { timeout: 20_000 }, async () => {
      const [a, b] = Pipe();
      const sender = start('pipe-send', [a], [50], method);
      const drainer = start('pipe-drain', [b], [], method);
      a.close();
      b.close();
      const [s, d] = await Promise.all([sender.outcome, drainer.outcome]);
      assert.equal(s.result, 50);
      assert.deepEqual(
        d.result,
        Array.from({ length: 50 }, (_, i) => i),
      );
    });
  });
}

describe('failures', () => {
  it('a peer killed mid-recv: our recv() rejects EOFError, send() then BrokenPipeError', { timeout: 20_000 }, async () => {
    const [mine, theirs] = Pipe();
    const child = start('pipe-recv-forever', [theirs], [], 'spawn');
    theirs.close();
    await child.signalled('ready');
    const pending = assert.rejects(mine.recv(), EOFError);
    await child.kill();
    await pending;
    assert.throws(() => mine.send(1), BrokenPipeError);
  });
});

/** How long after a death is observable (join() resolved) the other end may take to see it; measured ~50 ms. */
const PROMPT_MS = 1000;

// Each start method runs test/fixtures/pipe-death.ts once: every scenario there ends in the fixture under
// its own deadline, and the program must then exit by itself (nothing left that keeps it alive).
for (const method of ['spawn', 'forkserver', 'thread'] as const) {
  describe(`the last holder of a pipe end dies (${method})`, () => {
    const results = new Map<string, Record<string, unknown>>();
    let leftBehind: string[] = [];

    before(
      async () => {
        const tmp = mkdtempSync(join(tmpdir(), 'pipe-death-'));
        try {
          const run = await runProgram('test/fixtures/pipe-death.ts', { args: [method], env: { TMPDIR: tmp, FORKSCOPE_IPC_DIR: '' }, deadlineMs: 120_000 });
          for (const line of run.stdout.split('\n').filter((l) => l.startsWith('{'))) {
            const result = JSON.parse(line) as Record<string, unknown>;
            results.set(result.name as string, result);
          }
          assert.equal(run.code, 0, `pipe-death.ts exited with ${run.code}\n${run.stdout}\n${run.stderr}`);
          leftBehind = leftBehindIn(tmp);
        } finally {
          rmSync(tmp, { recursive: true, force: true });
        }
      },
      { timeout: 130_000 },
    );

    const result = (name: string) => {
      const r = results.get(name);
      assert.ok(r, `no result for ${name}`);
      assert.equal(r.error, undefined);
      return r;
    };
    const prompt = (r: Record<string, unknown>) => assert.ok((r.ms as number) < PROMPT_MS, `took ${r.ms} ms`);

    it('a child killed at start-up, before reviving its copy: recv() rejects EOFError, send() throws BrokenPipeError', () => {
      const r = result('killed at start-up, before reviving its copy');
      assert.equal(r.recv, 'EOFError');
      assert.equal(r.send, 'BrokenPipeError');
      prompt(r);
    });

    it('a child whose target throws before touching its copy: EOFError', () => {
      const r = result('its target throws before touching its copy');
      assert.equal(r.exitCode, 1);
      assert.equal(r.recv, 'EOFError');
      assert.equal(r.send, 'BrokenPipeError');
      prompt(r);
    });

    it('start() failing after the copy was made: unread messages come back to our copy, then EOFError', () => {
      const r = result('start() fails after the copy was made');
      assert.equal(r.start, 'PicklingError');
      assert.equal(r.early, 'early');
      assert.equal(r.recv, 'EOFError');
      assert.equal(r.send, 'BrokenPipeError');
      prompt(r);
    });

    it('a peer killed mid-recv holding a duplex end: our pending recv() rejects EOFError', () => {
      const r = result('killed mid-recv holding a duplex end');
      assert.equal(r.recv, 'EOFError');
      assert.equal(r.send, 'BrokenPipeError');
      prompt(r);
    });

    it('a peer killed holding a simplex sender: what it sent arrives, then EOFError', () => {
      const r = result('killed holding the sending end of a simplex pipe');
      assert.deepEqual(r.got, [0, 1, 2]);
      assert.equal(r.recv, 'EOFError');
      prompt(r);
    });

    it('a peer killed mid-recv holding a simplex receiver: our send() throws BrokenPipeError', () => {
      const r = result('killed mid-recv holding the receiving end of a simplex pipe');
      assert.equal(r.send, 'BrokenPipeError');
      prompt(r);
    });

    it('a peer killed while another child waits on the other end: that child gets what was sent, then EOFError', () => {
      const r = result('killed holding one end while another child waits on the other');
      assert.deepEqual(r.report, { n: 2, ended: 'EOFError' });
      prompt(r);
    });

    it('a grandchild killed at start-up lets go of the copy its living parent passed on', () => {
      const r = result('a grandchild killed at start-up while its parent lives on');
      assert.equal(r.said, 'grandchild gone');
      assert.equal(r.alive, true);
      assert.equal(r.recv, 'EOFError');
      assert.equal(r.send, 'BrokenPipeError');
      prompt(r);
    });

    it('a child that exits without closing its end: every message arrives, then EOFError', () => {
      const r = result('a child exits without closing its end after large sends');
      assert.deepEqual(r.sizes, Array(6).fill(2 * 1024 * 1024));
      assert.equal(r.recv, 'EOFError');
    });

    it('a copy sent through a pipe by a child and received while it lives works after the child exits', () => {
      const r = result('a copy sent through a pipe by a child, received while it lives');
      assert.equal(r.got, 'hi');
      assert.equal(r.back, 'back');
      assert.equal(r.recv, 'EOFError');
    });

    it('a copy sent through a pipe and never received goes with the child that held it: EOFError', () => {
      const r = result('a copy sent through a pipe by a child and never received');
      assert.equal(r.recv, 'EOFError');
      assert.equal(r.send, 'BrokenPipeError');
      assert.equal(r.late, 'EOFError');
      prompt(r);
    });

    it('the program exits by itself and leaves no socket directory', () => {
      assert.equal(results.size, 11);
      assert.deepEqual(leftBehind, []);
    });
  });
}
