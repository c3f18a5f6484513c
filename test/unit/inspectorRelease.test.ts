// The CDP client's WebSocket frames: every payload length form of RFC 6455 (7, 16 and 64 bits), decoded by hand and
// spoken to a real Node inspector, so a large call (a long expression, a big breakpoint condition) is not cut short.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CdpConnection, maskedTextFrame } from '../../src/debug/cdpConnection';

/** Reads one client frame back: its declared length and its unmasked text. */
function decode(frame: Buffer): { length: number; text: string } {
  assert.equal(frame[0], 0x81, 'FIN and text opcode');
  assert.ok(frame[1]! & 0x80, 'a client frame is masked');
  let length = frame[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    length = frame.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    length = Number(frame.readBigUInt64BE(2));
    offset = 10;
  }
  const mask = frame.subarray(offset, offset + 4);
  const body = frame.subarray(offset + 4);
  assert.equal(body.length, length, 'the declared length is the payload length');
  return { length, text: Buffer.from(body.map((b, i) => b ^ mask[i % 4]!)).toString('utf8') };
}

test('frames carry their payload whole in each length form', () => {
  for (const size of [0, 125, 126, 65_535, 65_536, 200_000]) {
    const text = 'x'.repeat(size);
    const { length, text: back } = decode(maskedTextFrame(text));
    assert.equal(length, size);
    assert.equal(back, text);
  }
});

test('a call of more than 64 KiB reaches a real inspector and is answered', async (t) => {
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', '-e', 'setInterval(() => {}, 1000)'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.after(() => child.kill());
  let stderr = '';
  let url: string | undefined;
  while (!url) {
    const [chunk] = (await once(child.stderr!, 'data')) as [Buffer];
    stderr += chunk.toString();
    url = /ws:\/\/\S+/.exec(stderr)?.[0];
  }
  const cdp = await CdpConnection.open(url, 10_000);
  try {
    const long = 'a'.repeat(100_000);
    const reply = (await cdp.call('Runtime.evaluate', { expression: `'${long}'.length` })) as { result: { value: number } };
    assert.equal(reply.result.value, 100_000);
  } finally {
    cdp.close();
  }
});
