// The shared-memory ring of queue puts, on a plain SharedArrayBuffer: frames come out whole and in order,
// across the wrap, only up to a published tail, and a full ring refuses a frame instead of overwriting.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RING_BLOCK_BYTES, RING_DATA_BYTES, Ring } from '../../runtime/src/broker/ring';
import type { Frame } from '../../runtime/src/broker/frame';

function pair(): { writer: Ring; reader: Ring } {
  const memory = { buffer: new SharedArrayBuffer(RING_BLOCK_BYTES + 16), offset: 8, length: RING_BLOCK_BYTES };
  return { writer: new Ring(memory, 'writer'), reader: new Ring(memory, 'reader') };
}

function put(ring: Ring, n: number, bytes = 100): boolean {
  return ring.write(16, 7, bytes, n, (target, offset, value) => {
    target.fill(value & 0xff, offset, offset + bytes);
    target.writeUInt32BE(value, offset);
  });
}

function takeAll(ring: Ring, until?: number): number[] {
  const seen: number[] = [];
  const onFrame = (frame: Frame) => {
    assert.equal(frame.op, 16);
    assert.equal(frame.object, 7);
    const n = frame.payload.readUInt32BE(0);
    for (let i = 4; i < frame.payload.length; i++) assert.equal(frame.payload[i], n & 0xff);
    seen.push(n);
  };
  if (until === undefined) ring.take(onFrame);
  else ring.take(onFrame, until);
  return seen;
}

describe('broker ring', () => {
  it('hands frames over whole and in order, across many wraps', () => {
    const { writer, reader } = pair();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 700; i++) assert.ok(put(writer, next++, 50 + (next % 300)));
      for (const n of takeAll(reader)) assert.equal(n, expected++);
    }
    assert.equal(expected, next);
  });

  it('takes only up to the tail it is given (a doorbell), the rest on the next take', () => {
    const { writer, reader } = pair();
    put(writer, 1);
    put(writer, 2);
    const rung = writer.tail;
    put(writer, 3);
    assert.deepEqual(takeAll(reader, rung), [1, 2]);
    assert.deepEqual(takeAll(reader), [3]);
    assert.deepEqual(takeAll(reader), []);
  });

  it('refuses a frame when full, and takes it once the reader freed room', () => {
    const { writer, reader } = pair();
    let n = 0;
    while (put(writer, n, 1000)) n++;
    assert.ok(n > 200 && n * 1013 <= RING_DATA_BYTES, `${n} frames fit`);
    assert.equal(put(writer, n, 1000), false);
    assert.equal(takeAll(reader).length, n);
    assert.ok(put(writer, n, 1000));
    assert.deepEqual(takeAll(reader), [n]);
  });

  it('a frame written but not published (the writer killed mid-write) is never seen', () => {
    const memory = { buffer: new SharedArrayBuffer(RING_BLOCK_BYTES), offset: 0, length: RING_BLOCK_BYTES };
    const writer = new Ring(memory, 'writer');
    const reader = new Ring(memory, 'reader');
    put(writer, 1);
    const tail = writer.tail;
    put(writer, 2);
    Atomics.store(new Int32Array(memory.buffer, 0, 2), 1, tail); // as if the last store never happened
    assert.deepEqual(takeAll(reader), [1]);
  });
});
