// A ring of frames in shared memory from one context to the one it sends to (small queue puts): the writer
// publishes a frame only whole, so the reader can take every published frame even after the writer died.
// Pure memory handling over a shared block: no sockets, no runtime objects.
import { HEADER_BYTES, MAX_FRAME_BYTES, writeHeaderInto, type Frame } from './frame';

/** Bytes of frame data; the block holds two Int32 words (head, tail) before them. */
export const RING_DATA_BYTES = 256 * 1024;
export const RING_BLOCK_BYTES = RING_DATA_BYTES + 8;
const HEAD = 0;
const TAIL = 1;
/** A length word of 0 where a frame would start: the next frame is at offset 0. */
const WRAP = 4;

/** The shared memory a ring lives in (an arena block). */
export interface RingMemory {
  buffer: SharedArrayBuffer;
  offset: number;
  length: number;
}

export class Ring {
  readonly #words: Int32Array;
  readonly #data: Buffer;
  readonly #capacity: number;
  /** The writer's tail, or the reader's head: each side keeps its own copy of the word it owns. */
  #mine: number;

  constructor(memory: RingMemory, side: 'writer' | 'reader') {
    this.#words = new Int32Array(memory.buffer, memory.offset, 2);
    this.#data = Buffer.from(memory.buffer, memory.offset + 8, memory.length - 8);
    this.#capacity = this.#data.length;
    this.#mine = Atomics.load(this.#words, side === 'writer' ? TAIL : HEAD);
  }

  /** The writer's published tail. */
  get tail(): number {
    return this.#mine;
  }

  /**
   * Writer: writes one frame (`payloadBytes` of payload encoded by `write`) and then publishes it; false
   * when the reader has not freed room for it yet. A frame that would not fit before the end leaves a wrap
   * marker and starts at 0; marker and frame become visible together, with the tail.
   */
  write<V>(op: number, object: number, payloadBytes: number, value: V, write: (target: Buffer, offset: number, value: V) => void): boolean {
    const bytes = HEADER_BYTES + payloadBytes;
    const head = Atomics.load(this.#words, HEAD);
    let at = this.#mine;
    let wrap = false;
    if (at >= head) {
      // Room for this frame and, after it, for a wrap marker; the tail never catches up with the head.
      if (at + bytes + WRAP > this.#capacity) {
        if (bytes >= head) return false;
        wrap = true;
      }
    } else if (at + bytes >= head) return false;
    const data = this.#data;
    if (wrap) {
      data.writeUInt32BE(0, at);
      at = 0;
    }
    writeHeaderInto(data, at, op, object, 0, payloadBytes);
    write(data, at + HEADER_BYTES, value);
    this.#mine = at + bytes;
    Atomics.store(this.#words, TAIL, this.#mine);
    return true;
  }

  /**
   * Reader: takes the frames from its head up to `until` (a tail the writer published; by default the
   * latest), copies them out, frees their room, then hands each to `onFrame` in order.
   */
  take(onFrame: (frame: Frame) => void, until = Atomics.load(this.#words, TAIL)): void {
    if (!(until >= 0 && until < this.#capacity)) throw new RangeError(`bad ring tail ${until}`);
    const data = this.#data;
    const segments: Buffer[] = [];
    let start = this.#mine;
    let at = start;
    let walked = 0;
    while (at !== until) {
      const length = data.readUInt32BE(at);
      if (length === 0) {
        segments.push(Buffer.from(data.subarray(start, at)));
        walked += this.#capacity - at;
        start = at = 0;
      } else {
        if (length < HEADER_BYTES - 4 || length > MAX_FRAME_BYTES) throw new RangeError(`bad ring frame length ${length}`);
        at += 4 + length;
        walked += 4 + length;
      }
      if (at + WRAP > this.#capacity || walked > this.#capacity) throw new RangeError('ring frames overrun the ring');
    }
    if (at !== start) segments.push(Buffer.from(data.subarray(start, at)));
    this.#mine = until;
    Atomics.store(this.#words, HEAD, until);
    for (const segment of segments) {
      for (let i = 0; i < segment.length; ) {
        const next = i + 4 + segment.readUInt32BE(i);
        onFrame({
          op: segment[i + 4]!,
          object: segment.readUInt32BE(i + 5),
          request: segment.readUInt32BE(i + 9),
          payload: segment.subarray(i + HEADER_BYTES, next),
        });
        i = next;
      }
    }
  }
}
