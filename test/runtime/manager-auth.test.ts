// A networked BaseManager over TCP: register()/getServer()/connect() as in Python's docs, and the
// handshake's failure cases (wrong key, no key, replayed answer, oversized pre-auth frame, silent
// peer, prototype keys after auth). Each raw socket is under a deadline and closed at the end.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createHmac, randomBytes } from 'node:crypto';
import { serialize } from 'node:v8';
import { BaseManager } from 'forkscope';

class Counter {
  #n = 0;
  increment(by = 1): number {
    this.#n += by;
    return this.#n;
  }
  _secret(): string {
    return 'never exposed';
  }
}

class ServingManager extends BaseManager {}
ServingManager.register('Counter', () => new Counter());
class ClientManager extends BaseManager {}
ClientManager.register('Counter');

const KEY = 'abracadabra';

/** A raw connection that collects frames; closes after the deadline. */
function raw(port: number): { socket: Socket; frames: Array<Record<string, unknown>>; closed: Promise<number> } {
  const socket = connect({ host: '127.0.0.1', port });
  const frames: Array<Record<string, unknown>> = [];
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const length = pending.readUInt32BE(0);
      const body = pending.subarray(4, 4 + length);
      // Handshake frames are JSON; after it, binary frames (id, kind, v8 bytes).
      frames.push(
        frames.length < 2
          ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>)
          : { id: body.readUInt32BE(0), kind: body[4], body: body.subarray(5) },
      );
      pending = pending.subarray(4 + length);
    }
  });
  socket.on('error', () => {});
  const opened = Date.now();
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - opened)));
  const deadline = setTimeout(() => socket.destroy(), 15_000);
  void closed.then(() => clearTimeout(deadline));
  return { socket, frames, closed };
}

function frame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

async function until<T>(get: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const hmac = (role: string, nonce: string): string => createHmac('sha256', KEY).update(`forkscope-manager-${role}:`).update(nonce).digest('hex');

describe('BaseManager over TCP', () => {
  let server: BaseManager;
  let port: number;
  before(async () => {
    server = new ServingManager({ address: ['127.0.0.1', 0], authkey: KEY });
    await server.getServer();
    port = server.address[1];
  });
  after(async () => {
    await server.shutdown();
  });

  it('serves registered typeids to a client that knows the key', async () => {
    const client = await new ClientManager({ address: ['127.0.0.1', port], authkey: KEY }).connect();
    const counter = await client.create<{
      increment(by?: number): Promise<number>;
      _secret?: unknown;
      _exposed_: string[];
      _callMethod(name: string): Promise<unknown>;
    }>('Counter');
    assert.equal(await counter.increment(), 1);
    assert.equal(await counter.increment(5), 6);
    assert.deepEqual(counter._exposed_, ['increment']);
    assert.equal(counter._secret, undefined, 'a proxy has only the exposed methods');
    await assert.rejects(counter._callMethod('_secret'), { name: 'AttributeError', message: /not in exposed/ });
    const viaMethod = await (client as unknown as { Counter(): Promise<{ increment(): Promise<number> }> }).Counter();
    assert.equal(await viaMethod.increment(), 1);
  });

  it('a wrong key is refused with AuthenticationError', async () => {
    const client = new ClientManager({ address: ['127.0.0.1', port], authkey: 'not the key' });
    await assert.rejects(client.connect(), { name: 'AuthenticationError', message: /digest/ });
  });

  it('no key is refused with AuthenticationError', async () => {
    const client = new ClientManager({ address: ['127.0.0.1', port] });
    await assert.rejects(client.connect(), { name: 'AuthenticationError' });
  });

  it('a client refuses a server that cannot answer its challenge (mutual authentication)', async () => {
    // An impostor that welcomes every client without knowing the key.
    const sockets = new Set<Socket>();
    const impostor = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.write(frame({ challenge: randomBytes(32).toString('hex') }));
      socket.once('data', () => socket.write(frame({ welcome: true, response: randomBytes(32).toString('hex') })));
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    try {
      const client = new ClientManager({ address: ['127.0.0.1', (impostor.address() as AddressInfo).port], authkey: KEY });
      await assert.rejects(client.connect(), { name: 'AuthenticationError', message: /failed to prove/ });
    } finally {
      for (const socket of sockets) socket.destroy();
      impostor.close();
    }
  });

  it('a replayed handshake answer is refused: every connection gets a fresh nonce', async () => {
    const first = raw(port);
    const challenge = await until(() => first.frames[0]?.challenge as string | undefined);
    const answer = frame({ response: hmac('client', challenge), challenge: randomBytes(32).toString('hex') });
    first.socket.write(answer);
    const welcome = await until(() => first.frames[1]);
    assert.equal(welcome.welcome, true);
    first.socket.destroy();

    const second = raw(port);
    const freshChallenge = await until(() => second.frames[0]?.challenge as string | undefined);
    assert.notEqual(freshChallenge, challenge);
    second.socket.write(answer);
    await second.closed;
    assert.equal(second.frames[1]?.welcome, undefined);
    assert.match(String(second.frames[1]?.failure), /digest/);
  });

  it('an oversized message before authentication closes the connection at once', async () => {
    const peer = raw(port);
    await until(() => peer.frames[0]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(10_000_000);
    peer.socket.write(Buffer.concat([head, Buffer.alloc(1024, 0x20)]));
    const lifetime = await peer.closed;
    assert.ok(lifetime < 2500, `closed after ${lifetime} ms`);
  });

  it('a silent connection is closed after the auth timeout', async () => {
    const peer = raw(port);
    const lifetime = await peer.closed;
    assert.ok(lifetime >= 2500 && lifetime < 10_000, `closed after ${lifetime} ms`);
  });

  it('after authentication, a __proto__ key is data (nothing polluted), and a frame that is not v8 data closes the connection', async () => {
    const peer = raw(port);
    const challenge = await until(() => peer.frames[0]?.challenge as string | undefined);
    const mine = randomBytes(32).toString('hex');
    peer.socket.write(frame({ response: hmac('client', challenge), challenge: mine }));
    const welcome = await until(() => peer.frames[1]);
    assert.equal(welcome.response, hmac('server', mine), 'the server proved it knows the key');
    const request = (id: number, body: Buffer): Buffer => {
      const head = Buffer.alloc(9);
      head.writeUInt32BE(body.length + 5);
      head.writeUInt32BE(id, 4);
      return Buffer.concat([head, body]);
    };
    const hostile = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    peer.socket.write(request(1, serialize({ op: 'create', typeid: 'Counter', args: [hostile] })));
    const reply = await until(() => peer.frames[2]);
    assert.equal(reply.id, 1);
    assert.equal(reply.kind, 2, 'answered with a new proxy token');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype polluted in the server (this process)');
    const poisoned = Buffer.from('{"id":1,"op":"create","typeid":"Counter","__proto__":{"x":1}}');
    peer.socket.write(request(2, poisoned));
    const lifetime = await peer.closed;
    assert.ok(lifetime < 5000, `closed after ${lifetime} ms`);
    assert.equal(peer.frames.length, 3, 'no reply to the frame that is not v8 data');
  });

  it('70 idle unauthenticated connections do not lock out a client with the right key', async () => {
    // A server of its own: this process's connection to the shared one is already authenticated.
    const own = new ServingManager({ address: ['127.0.0.1', 0], authkey: KEY });
    await own.getServer();
    const idle = Array.from({ length: 70 }, () => raw(own.address[1]));
    try {
      await until(() => (idle.every((peer) => peer.frames.length > 0 || peer.socket.destroyed) ? true : undefined), 10_000);
      const client = await new ClientManager({ address: own.address, authkey: KEY }).connect();
      const counter = await client.create<{ increment(): Promise<number> }>('Counter');
      assert.equal(await counter.increment(), 1);
    } finally {
      for (const peer of idle) peer.socket.destroy();
      await own.shutdown();
    }
  });

  it('still serves good clients after all that', async () => {
    const client = await new ClientManager({ address: ['127.0.0.1', port], authkey: KEY }).connect();
    const counter = await client.create<{ increment(): Promise<number> }>('Counter');
    assert.equal(await counter.increment(), 1);
  });

  it('warns when listening beyond loopback', () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    new BaseManager({ address: ['0.0.0.0', 0], authkey: KEY });
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        process.off('warning', onWarning);
        assert.match(warnings.join('\n'), /reachable beyond this machine/);
        resolve();
      }),
    );
  });
});
