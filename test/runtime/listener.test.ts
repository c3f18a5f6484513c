// multiprocessing.connection's Listener and Client: HMAC authentication both ways, Connections that work
// like a Pipe's ends, in this process and from a child under spawn, forkserver and thread, and a
// listener that never keeps a program alive. Children re-import this file as their main module, so the
// tests are registered only in the main process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { AuthenticationError, Client, Listener, Pipe, Process, connection, isMainProcess, type Connection } from 'forkscope';
import { echoClient } from '../fixtures/listener-targets';
import { runProgram } from './runProgram';
import type { StartMethod } from '../../runtime/src/protocol';

const main = isMainProcess();

async function pair(listener: Listener, authkey?: string): Promise<[Connection, Connection]> {
  const [client, server] = await Promise.all([Client(listener.address, authkey === undefined ? {} : { authkey }), listener.accept()]);
  return [client, server];
}

if (main)
  describe('Listener and Client (in this process)', () => {
    it('with an authkey: accept() and Client() give connected ends that carry objects and bytes both ways', { timeout: 20_000 }, async () => {
      await using listener = new Listener({ authkey: 'secret password' });
      const address = listener.address;
      assert.equal(typeof address, 'string', 'the default address is a Unix socket');
      assert.equal(listener.lastAccepted, null);
      const [client, server] = await pair(listener, 'secret password');
      assert.equal(listener.lastAccepted, '');
      // Sent at once after accept(): it must not be mixed into the client's side of the handshake.
      await server.send([2.25, null, 'junk']);
      assert.deepEqual(await client.recv(), [2.25, null, 'junk']);
      await client.sendBytes(Buffer.from('hello world'), 6);
      assert.equal((await server.recvBytes()).toString(), 'world');
      const big = Buffer.alloc(3 * 1024 * 1024, 7);
      await client.sendBytes(big);
      const into = Buffer.alloc(big.length + 4);
      assert.equal(await server.recvBytesInto(into, 4), big.length);
      assert.ok(into.subarray(4).equals(big));
      assert.equal(await server.poll(), false);
      assert.equal(await server.poll({ timeout: 20 }), false);
      setTimeout(() => void client.send({ later: true }), 20);
      assert.deepEqual(await connection.wait([server], { timeout: 10_000 }), [server]);
      assert.deepEqual(await server.recv(), { later: true });
      client.close();
      await assert.rejects(server.recv(), { name: 'EOFError' });
      assert.throws(() => server.send(1), { name: 'BrokenPipeError' });
      server.close();
      assert.equal(connection.Listener, Listener);
      assert.equal(connection.Client, Client);
    });

    it('a wrong authkey: Client() rejects AuthenticationError, and so does that accept(); the next client gets in', { timeout: 20_000 }, async () => {
      await using listener = new Listener({ authkey: 'right' });
      const refused = assert.rejects(listener.accept(), (e: Error) => e instanceof AuthenticationError && e.name === 'AuthenticationError');
      await assert.rejects(Client(listener.address, { authkey: 'wrong' }), AuthenticationError);
      await refused;
      const [client, server] = await pair(listener, 'right');
      await client.send('in');
      assert.equal(await server.recv(), 'in');
      client.close();
      server.close();
    });

    it('TCP on loopback: create() reports the port picked, lastAccepted the peer', { timeout: 20_000 }, async () => {
      const listener = await Listener.create(['127.0.0.1', 0], { authkey: Buffer.from('k') });
      const [host, port] = listener.address as [string, number];
      assert.equal(host, '127.0.0.1');
      assert.ok(port > 0);
      const [client, server] = await pair(listener, 'k');
      assert.equal((listener.lastAccepted as [string, number])[0], '127.0.0.1');
      await server.send('over tcp');
      assert.equal(await client.recv(), 'over tcp');
      client.close();
      server.close();
      listener.close();
      await assert.rejects(Client(['127.0.0.1', port]), { name: 'ConnectionRefusedError' });
    });

    it('without an authkey nothing is asked; close() removes the socket and fails a pending accept()', { timeout: 20_000 }, async () => {
      const listener = new Listener();
      const [client, server] = await pair(listener);
      await client.send(1);
      assert.equal(await server.recv(), 1);
      const pending = listener.accept();
      const path = listener.address as string;
      assert.ok(existsSync(path));
      listener.close();
      await assert.rejects(pending, { name: 'OSError' });
      assert.equal(existsSync(path), false);
      await assert.rejects(Client(path), { name: 'FileNotFoundError' });
      assert.throws(() => new Listener({ authkey: 42 as never }), TypeError);
      // A connection from Listener/Client cannot be handed to another process (it says so).
      assert.throws(
        () =>
          (server as unknown as { [k: symbol]: (c: object) => unknown })[
            Object.getOwnPropertySymbols(Object.getPrototypeOf(server)).find((s) => String(s).includes('reduce'))!
          ]!({ startMethod: 'spawn', transfer: [] }),
        { name: 'PicklingError' },
      );
      client.close();
      server.close();
    });

    it('an open Listener and connection do not keep the program alive', { timeout: 120_000 }, async () => {
      const run = await runProgram('test/fixtures/listener-exit.ts', { deadlineMs: 100_000 });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.trim(), '{"n":1}');
    });
  });

const methods: StartMethod[] = main ? ['spawn', 'forkserver', 'thread'] : [];
for (const method of methods.filter((m) => !process.env.SYNC_METHODS || process.env.SYNC_METHODS.includes(m))) {
  describe(`Listener and Client across a child (${method})`, () => {
    it('a child connects with the authkey and echoes objects and a large message', { timeout: 90_000 }, async () => {
      await using listener = new Listener({ authkey: 'shared' });
      const p = new Process({ target: echoClient, args: [listener.address, 'shared'], startMethod: method });
      p.start();
      try {
        const conn = await listener.accept();
        assert.equal(await conn.recv(), 'hello');
        await conn.send({ a: [1, 2, 3] });
        assert.deepEqual(await conn.recv(), { a: [1, 2, 3] });
        const big = Buffer.alloc(2 * 1024 * 1024, 3);
        await conn.sendBytes(big);
        assert.ok((await conn.recvBytes()).equals(big));
        conn.close();
        await p.join();
        assert.equal(p.exitCode, 0);
      } finally {
        if (p.exitCode === null) p.kill();
      }
    });
  });
}

if (main)
  describe("connection.deliverChallenge / answerChallenge (Python's handshake over any connection)", () => {
    it('the same key passes both ways over a Pipe; a wrong key fails on both sides with AuthenticationError', { timeout: 20_000 }, async () => {
      const [a, b] = Pipe();
      await Promise.all([connection.deliverChallenge(a, 'secret'), connection.answerChallenge(b, Buffer.from('secret'))]);
      await Promise.all([connection.answerChallenge(a, 'secret'), connection.deliverChallenge(b, 'secret', 'sha3_256')]);
      const [delivered, answered] = await Promise.allSettled([connection.deliverChallenge(a, 'secret'), connection.answerChallenge(b, 'wrong')]);
      assert.ok(delivered.status === 'rejected' && delivered.reason instanceof AuthenticationError, String(delivered.status));
      assert.ok(answered.status === 'rejected' && answered.reason instanceof AuthenticationError, String(answered.status));
    });

    it('sends what CPython 3.12+ sends: #CHALLENGE#{sha256} and 40 random bytes, then #WELCOME#', { timeout: 20_000 }, async () => {
      const [a, b] = Pipe();
      const delivering = connection.deliverChallenge(a, 'k');
      const challenge = await b.recvBytes();
      assert.equal(challenge.subarray(0, 19).toString(), '#CHALLENGE#{sha256}');
      assert.equal(challenge.length, 19 + 40);
      const mac = createHmac('sha256', 'k').update(challenge.subarray(11)).digest();
      await b.sendBytes(Buffer.concat([Buffer.from('{sha256}'), mac]));
      assert.equal((await b.recvBytes()).toString(), '#WELCOME#');
      await delivering;
    });

    it('an unknown digest name is a ValueError at the call', async () => {
      const [a] = Pipe();
      await assert.rejects(connection.deliverChallenge(a, 'k', 'sha1'), { name: 'ValueError' });
    });
  });
