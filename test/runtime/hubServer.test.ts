// The control channel's failure tests (RELIABILITY.md) against the real hub server and real programs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Socket } from 'node:net';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { Hub } from '../../hub/hub';
import { frame } from '../../hub/hubServer';

const execFileAsync = promisify(execFile);
const CHILD = join(__dirname, '..', 'fixtures', 'hub-telemetry-child.ts');

/** Writes `bytes` on a fresh connection and resolves when the hub closes it (or rejects after `ms`). */
function sendAndAwaitClose(address: string, chunks: Buffer[], ms = 5_000): Promise<{ closedBy: 'hub'; received: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(address);
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the hub kept a bad connection open'));
    }, ms);
    socket.on('data', (d) => (received = Buffer.concat([received, d])));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closedBy: 'hub', received });
    });
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
    });
  });
}

function rawFrame(text: string | Buffer): Buffer {
  const body = typeof text === 'string' ? Buffer.from(text) : text;
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

function helloFrame(token: string, extra: Record<string, unknown> = {}): Buffer {
  return frame({ t: 'hello', v: 1, token, pid: 4242, ppid: 1, threadId: 0, name: 'Probe', startMethod: 'spawn', role: 'external', ...extra });
}

/** Connects, says hello, and returns the open socket once welcomed. */
function helloClient(address: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(address);
    const timer = setTimeout(() => reject(new Error('no welcome')), 5_000);
    socket.on('error', reject);
    socket.once('data', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.on('connect', () => socket.write(helloFrame(token)));
  });
}

function run(
  args: string[],
  env: Record<string, string>,
  onLine?: (line: string) => void,
  ms = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child hung: ${stdout} ${stderr}`));
    }, ms);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      for (const line of String(d).split('\n')) if (line) onLine?.(line);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('HubServer', () => {
  let hub: Hub;
  let address: string;
  let token: string;

  before(async () => {
    hub = new Hub({ preload: false, sampleIntervalMs: false });
    ({ address, token } = await hub.start());
  });
  after(async () => {
    await hub.close();
    assert.equal(existsSync(dirname(address)), false, 'the socket directory is removed');
  });

  it('listens on a Unix socket in a fresh 0700 directory, with a 256-bit token', () => {
    assert.equal(statSync(dirname(address)).mode & 0o777, 0o700);
    assert.match(token, /^[0-9a-f]{64}$/);
  });

  const refused: Array<[string, () => Buffer[]]> = [
    ['random bytes', () => [Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff))]],
    ['a huge length prefix', () => [Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])]],
    ['a hello bigger than the pre-auth cap', () => [rawFrame(JSON.stringify({ t: 'hello', pad: 'x'.repeat(8_000) }))]],
    ['invalid UTF-8', () => [rawFrame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))]],
    ['invalid JSON', () => [rawFrame('{"t":"hello",')]],
    ['deep nesting', () => [rawFrame('['.repeat(500) + ']'.repeat(500))]],
    ['a __proto__ key', () => [rawFrame(`{"t":"hello","v":1,"token":"${'0'.repeat(64)}","__proto__":{"polluted":1}}`)]],
    ['a wrong token', () => [helloFrame('f'.repeat(64))]],
    ['a missing token', () => [frame({ t: 'hello', v: 1, pid: 1, ppid: 1, threadId: 0, name: 'x', startMethod: 'spawn', role: 'main' })]],
    ['an event batch before the hello', () => [frame({ t: 'events', events: [] })]],
  ];
  for (const [what, bytes] of refused) {
    it(`closes and counts a connection that sends ${what}`, async () => {
      const rejectedBefore = hub.rejectedConnections;
      const { received } = await sendAndAwaitClose(address, bytes());
      assert.equal(received.length, 0, 'nothing is answered to an unauthenticated peer');
      assert.equal(hub.rejectedConnections, rejectedBefore + 1);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }

  // JSON escapes spell a forbidden key without its letters in the raw text: the parsed keys are what count.
  const escapedKeys: Array<[string, string]> = [
    ['__proto__', '\\u005f_proto__'],
    ['constructor', '\\u0063onstructor'],
    ['prototype', 'prot\\u006ftype'],
  ];
  for (const [key, spelled] of escapedKeys) {
    it(`closes and counts a hello with the right token and a "${key}" key spelled with escapes`, async () => {
      const rejectedBefore = hub.rejectedConnections;
      const valid = helloFrame(token).subarray(4).toString('utf8');
      const text = `${valid.slice(0, -1)},"${spelled}":{"polluted":1}}`;
      assert.ok(!text.includes(key), 'the raw text does not name the key');
      const { received } = await sendAndAwaitClose(address, [rawFrame(text)]);
      assert.equal(received.length, 0, 'no welcome');
      assert.equal(hub.rejectedConnections, rejectedBefore + 1);
    });
  }

  it('closes a truncated frame when its sender gives up, and stays up', async () => {
    const { received } = await sendAndAwaitClose(address, [Buffer.from([0, 0])], 200).catch(() => ({ received: Buffer.alloc(0) }));
    assert.equal(received.length, 0);
    const socket = await helloClient(address, token);
    socket.destroy();
  });

  it('closes a silent connection after the auth timeout', async () => {
    const quick = new Hub({ preload: false, sampleIntervalMs: false, authTimeoutMs: 1_000 });
    const session = await quick.start();
    try {
      // A 1 s auth timeout: the connection must be gone well before this test's own deadline.
      await sendAndAwaitClose(session.address, [], 6_000);
      assert.equal(quick.rejectedConnections, 1);
    } finally {
      await quick.close();
    }
  });

  it('drops an authenticated connection that sends a bad frame, keeping what came before', async () => {
    const socket = await helloClient(address, token);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      frame({
        t: 'events',
        events: [
          { t: 'object', ts: 1, id: 'probe-q', kind: 'Queue', label: 'probe' },
          { t: 'novel-event', ts: 1 },
          { t: 'queue', ts: 1, id: 'probe-q', puts: 'NaN' },
        ],
      }),
    );
    socket.write(rawFrame(`{"t":"events","events":[{"t":"object","ts":1,"id":"x","kind":"Lock","constructor":{"prototype":{}}}]}`));
    await closed;
    const q = hub.model.snapshot().queues.find((x) => x.id === 'probe-q');
    assert.equal(q?.label, 'probe');
    assert.equal(q?.puts, 0, 'the malformed queue event was skipped');
    assert.equal(
      hub.model.snapshot().syncs.find((x) => x.id === 'x'),
      undefined,
    );
    assert.equal(hub.model.process('4242')?.state, 'exited');
  });

  it("takes a real program's report: queue depth, counts and call site", async () => {
    const { code } = await run(['queue'], { FORKSCOPE_HUB: address, FORKSCOPE_TOKEN: token });
    assert.equal(code, 0);
    const q = hub.model.snapshot().queues.find((x) => x.label === 'jobs');
    assert.ok(q, 'the queue was reported');
    assert.deepEqual([q.puts, q.gets, q.depth], [1000, 400, 600]);
    assert.equal(q.site?.file, CHILD);
  });

  it("a program's first object costs about the same CPU with a hub as without: only the user's own frame is source-mapped", async () => {
    // The built runtime under tsx: formatting a whole stack for the construction site parsed the map of every file in
    // it, the runtime's own bundle first (~70 ms CPU here, against ~6 ms without a hub).
    const fixture = join(__dirname, '..', 'fixtures', 'hub-first-object.ts');
    const quiet = { ...process.env };
    delete quiet.FORKSCOPE_HUB;
    delete quiet.FORKSCOPE_TOKEN;
    const cpuMs = async (env: NodeJS.ProcessEnv): Promise<number> => {
      const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', fixture], { env, encoding: 'utf8', timeout: 30_000 });
      return (JSON.parse(stdout.trim()) as { cpuMs: number }).cpuMs;
    };
    const without: number[] = [];
    const watched: number[] = [];
    for (let i = 0; i < 3; i++) {
      without.push(await cpuMs(quiet));
      watched.push(await cpuMs({ ...quiet, FORKSCOPE_HUB: address, FORKSCOPE_TOKEN: token }));
    }
    assert.ok(Math.min(...watched) < 3 * Math.min(...without), `first Queue: ${watched.join(', ')} ms CPU with a hub, ${without.join(', ')} ms without`);
    // And the site is still the user's line, as written.
    const q = hub.model.snapshot().queues.find((x) => x.site?.file === fixture);
    assert.deepEqual([q?.site?.line, q?.site?.column], [6, 11]);
  });

  it('a program with a wrong token carries on, reporting nothing', async () => {
    const rejectedBefore = hub.rejectedConnections;
    const { code } = await run(['queue'], { FORKSCOPE_HUB: address, FORKSCOPE_TOKEN: 'a'.repeat(64) });
    assert.equal(code, 0);
    assert.equal(hub.rejectedConnections, rejectedBefore + 1);
  });
});

describe('telemetry client', () => {
  it('never blocks on a flood when nobody reads: drops and counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forkscope-test-'));
    const address = join(dir, 'stalled.sock');
    const sockets = new Set<Socket>();
    // A hub that accepts and never reads a byte.
    const stalled = createServer((s) => {
      sockets.add(s);
      s.pause();
    });
    await new Promise<void>((resolve) => stalled.listen(address, resolve));
    try {
      const { code, stdout } = await run(['flood'], { FORKSCOPE_HUB: address, FORKSCOPE_TOKEN: 'b'.repeat(64) }, undefined, 60_000);
      assert.equal(code, 0);
      const [, dropped, rss] = /flood done in \d+ ms, dropped (\d+), rss (\d+) MB/.exec(stdout) ?? [];
      assert.ok(Number(dropped) > 100_000, `most of the flood is dropped and counted (${dropped})`);
      assert.ok(Number(rss) < 400, `memory stays bounded (${rss} MB)`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => stalled.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the program carries on when the hub vanishes mid-run', async () => {
    const hub = new Hub({ preload: false, sampleIntervalMs: false });
    const { env } = await hub.start();
    let closing: Promise<void> | undefined;
    const { code, stdout } = await run(['hub-vanishes'], env, (line) => {
      if (line === 'ready') closing = hub.close();
    });
    await closing;
    assert.equal(code, 0);
    assert.match(stdout, /carried on 190/);
  });
});
