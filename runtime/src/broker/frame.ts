// Length-prefixed binary frames between the processes that share queues, pipes and locks.
// Pure byte handling: no sockets, no runtime objects. A frame is never half-delivered: a reader
// yields only whole frames and a truncated tail (a writer killed mid-frame) is simply dropped.

/** `u32 length | u8 op | u32 object | u32 request`, then the payload; length counts what follows it. */
export const HEADER_BYTES = 13;
/** Larger frames are refused: a corrupt length must not make a process allocate gigabytes. */
export const MAX_FRAME_BYTES = 1024 * 1024 * 1024;

export interface Frame {
  op: number;
  object: number;
  request: number;
  payload: Buffer;
}

/** Encodes a frame's header; the payload is written after it (two writes avoid copying big payloads). */
export function encodeHeader(op: number, object: number, request: number, payloadBytes: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32BE(payloadBytes + HEADER_BYTES - 4, 0);
  header.writeUInt8(op, 4);
  header.writeUInt32BE(object >>> 0, 5);
  header.writeUInt32BE(request >>> 0, 9);
  return header;
}

/** Encodes a whole frame into one buffer (small payloads: one write, one syscall). */
export function encodeFrame(op: number, object: number, request: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.byteLength);
  frame.writeUInt32BE(payload.byteLength + HEADER_BYTES - 4, 0);
  frame.writeUInt8(op, 4);
  frame.writeUInt32BE(object >>> 0, 5);
  frame.writeUInt32BE(request >>> 0, 9);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** Writes a frame's header into `target` at `offset` (a ring or batch of frames); its payload follows it there. */
export function writeHeaderInto(target: Buffer, offset: number, op: number, object: number, request: number, payloadBytes: number): void {
  // Byte by byte: this runs once per small put, and Buffer's checked writers cost more than the rest of it.
  const length = payloadBytes + HEADER_BYTES - 4;
  target[offset] = length >>> 24;
  target[offset + 1] = length >>> 16;
  target[offset + 2] = length >>> 8;
  target[offset + 3] = length;
  target[offset + 4] = op;
  target[offset + 5] = object >>> 24;
  target[offset + 6] = object >>> 16;
  target[offset + 7] = object >>> 8;
  target[offset + 8] = object;
  target[offset + 9] = request >>> 24;
  target[offset + 10] = request >>> 16;
  target[offset + 11] = request >>> 8;
  target[offset + 12] = request;
}

/** Encodes a whole frame into `target` at `offset` (a batch of frames); returns the bytes written. */
export function encodeFrameInto(target: Buffer, offset: number, op: number, object: number, request: number, payload: Uint8Array): number {
  writeHeaderInto(target, offset, op, object, request, payload.byteLength);
  target.set(payload, offset + HEADER_BYTES);
  return HEADER_BYTES + payload.byteLength;
}

/** Accumulates chunks from a stream and hands out whole frames. */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes of the frame being assembled, once its header is known. */
  #need = 0;

  /** Feeds a chunk; calls `onFrame` for every whole frame; throws on an impossible length. */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    if (this.#buffered === 0) {
      chunk = this.#parseWhole(chunk, onFrame);
      if (chunk.length === 0) return;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#need === 0) {
        if (this.#chunks.length === 1) {
          // Back to one chunk between frames: the rest is parsed in place.
          const rest = this.#parseWhole(this.#chunks.pop()!, onFrame);
          this.#buffered = rest.length;
          if (rest.length === 0) return;
          this.#chunks.push(rest);
        }
        if (this.#buffered < 4) return;
        const length = this.#peekLength();
        if (length < HEADER_BYTES - 4 || length > MAX_FRAME_BYTES) throw new RangeError(`bad frame length ${length}`);
        this.#need = length + 4;
      }
      if (this.#buffered < this.#need) return;
      const bytes = this.#take(this.#need);
      this.#need = 0;
      onFrame({
        op: bytes.readUInt8(4),
        object: bytes.readUInt32BE(5),
        request: bytes.readUInt32BE(9),
        payload: bytes.subarray(HEADER_BYTES),
      });
    }
  }

  /**
   * The common case, many small frames in one chunk with nothing buffered before it: each frame is read
   * in place (its payload a view of the chunk, no copy); returns the unparsed tail.
   */
  #parseWhole(chunk: Buffer, onFrame: (frame: Frame) => void): Buffer {
    let at = 0;
    const end = chunk.length;
    while (end - at >= HEADER_BYTES) {
      const length = chunk.readUInt32BE(at);
      if (length < HEADER_BYTES - 4 || length > MAX_FRAME_BYTES) throw new RangeError(`bad frame length ${length}`);
      const next = at + 4 + length;
      if (next > end) break;
      const frame: Frame = {
        op: chunk[at + 4]!,
        object: chunk.readUInt32BE(at + 5),
        request: chunk.readUInt32BE(at + 9),
        payload: chunk.subarray(at + HEADER_BYTES, next),
      };
      at = next;
      onFrame(frame);
    }
    return at === 0 ? chunk : chunk.subarray(at);
  }

  #peekLength(): number {
    const first = this.#chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.concat(this.#chunks, Math.min(this.#buffered, 8));
    return head.readUInt32BE(0);
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const part = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      if (part === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part);
    }
    this.#buffered -= n;
    return out;
  }
}
