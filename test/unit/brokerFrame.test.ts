// The broker's frame reader and writers: whole frames only, in order, however the stream is cut.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, HEADER_BYTES, encodeFrame, encodeFrameInto, encodeHeader, type Frame } from '../../runtime/src/broker/frame';

/** A deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

function frames(rnd: () => number, count: number): { op: number; object: number; request: number; payload: Buffer }[] {
  return Array.from({ length: count }, (_, i) => {
    const size = rnd() < 0.1 ? Math.floor(rnd() * 200_000) : Math.floor(rnd() * 40);
    const payload = Buffer.alloc(size, i & 0xff);
    if (size > 0) payload[size - 1] = 0xab;
    return { op: 16 + (i % 100), object: i * 7, request: i * 13, payload };
  });
}

function readAll(stream: Buffer, cuts: number[]): Frame[] {
  const reader = new FrameReader();
  const out: Frame[] = [];
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    reader.push(stream.subarray(at, cut), (f) => out.push({ ...f, payload: Buffer.from(f.payload) }));
    at = cut;
  }
  return out;
}

describe('broker frames', () => {
  it('a stream cut anywhere yields every frame whole and in order', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = random(seed);
      const sent = frames(rnd, 300);
      // Batched small frames and header + payload pairs, as the broker writes them.
      const parts: Buffer[] = [];
      for (const f of sent) {
        if (f.payload.length > 1000) parts.push(encodeHeader(f.op, f.object, f.request, f.payload.length), f.payload);
        else if (rnd() < 0.5) parts.push(encodeFrame(f.op, f.object, f.request, f.payload));
        else {
          const batch = Buffer.alloc(HEADER_BYTES + f.payload.length + 3);
          const n = encodeFrameInto(batch, 3, f.op, f.object, f.request, f.payload);
          parts.push(batch.subarray(3, 3 + n));
        }
      }
      const stream = Buffer.concat(parts);
      const cuts = Array.from({ length: Math.floor(rnd() * 400) }, () => Math.floor(rnd() * stream.length)).sort((a, b) => a - b);
      if (seed % 3 === 0) for (let i = 1; i < Math.min(stream.length, 2000); i += 1 + Math.floor(rnd() * 5)) cuts.push(i); // tiny pieces
      cuts.sort((a, b) => a - b);
      const got = readAll(stream, cuts);
      assert.equal(got.length, sent.length, `seed ${seed}`);
      got.forEach((f, i) => assert.deepEqual(f, sent[i], `seed ${seed} frame ${i}`));
    }
  });

  it('a truncated tail is held back, never handed out', () => {
    const stream = Buffer.concat([encodeFrame(16, 1, 0, Buffer.from('whole')), encodeFrame(16, 1, 0, Buffer.alloc(100, 1))]);
    const got = readAll(stream.subarray(0, stream.length - 1), [7, 20]);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.payload.toString(), 'whole');
  });

  it('an impossible length throws', () => {
    const bad = Buffer.alloc(HEADER_BYTES);
    bad.writeUInt32BE(2, 0);
    assert.throws(() => new FrameReader().push(bad, () => {}), RangeError);
    const huge = Buffer.alloc(HEADER_BYTES);
    huge.writeUInt32BE(0xffff_ffff, 0);
    assert.throws(() => new FrameReader().push(huge, () => {}), RangeError);
  });
});
