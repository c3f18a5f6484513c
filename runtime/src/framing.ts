// The one length-prefixed framing of the runtime's byte streams: a 4-byte big-endian length, then the body (UTF-8
// JSON, or bytes). The control channel to the hub uses it (telemetry.ts and entry/preload.ts write, the hub's
// hub/hubServer.ts reads) and so does the manager's wire (managers/wire.ts: its handshake's JSON frames and
// its binary frames, whose body starts with a request id and a kind byte). The broker (broker/frame.ts) frames
// otherwise: a fixed header naming object, op and request, that a shared-memory ring also carries.
// Node's Buffer only, so the hub (shipped by the CLI and the extension) imports it as it imports protocol.ts.
import { FRAME_HEADER_BYTES } from './protocol';

/** `body` behind its length. */
export function lengthPrefixed(body: Buffer): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body], FRAME_HEADER_BYTES + body.length);
}

/** `value` as a frame of UTF-8 JSON (`null` for what JSON cannot say, such as undefined). */
export function jsonFrame(value: unknown): Buffer {
  return lengthPrefixed(Buffer.from(JSON.stringify(value) ?? 'null', 'utf8'));
}

/**
 * Splits a byte stream into length-prefixed bodies. Chunks are kept as they come and joined once per whole
 * frame, so each byte is copied a bounded number of times (joining on every chunk made a 32 MB frame cost
 * 26 s). `max` may change between frames (a peer may send more once it is authenticated); a length over it
 * calls `onError` once and nothing more is read.
 */
export class FrameSplitter {
  #chunks: Buffer[] = [];
  #size = 0;
  #stopped = false;
  max: number;

  constructor(
    max: number,
    readonly onBody: (body: Buffer) => void,
    readonly onError: (error: Error) => void,
  ) {
    this.max = max;
  }

  push(chunk: Buffer): void {
    if (this.#stopped) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size >= FRAME_HEADER_BYTES) {
      const head = this.#chunks[0]!.length >= FRAME_HEADER_BYTES ? this.#chunks[0]! : this.#join();
      const length = head.readUInt32BE(0);
      if (length > this.max) return this.fail(new Error(`frame of ${length} bytes is over the ${this.max}-byte limit`));
      if (this.#size < FRAME_HEADER_BYTES + length) return;
      const whole = this.#chunks.length === 1 ? this.#chunks[0]! : this.#join();
      const rest = whole.subarray(FRAME_HEADER_BYTES + length);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#size = rest.length;
      this.onBody(whole.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length));
      if (this.#stopped) return;
    }
  }

  #join(): Buffer {
    const joined = Buffer.concat(this.#chunks, this.#size);
    this.#chunks = [joined];
    return joined;
  }

  /** Stops reading: drops what is buffered and reports `error` once. */
  fail(error: Error): void {
    if (this.#stopped) return;
    this.stop();
    this.onError(error);
  }

  /** Stops reading without a word (the stream's owner has closed it): drops what is buffered. */
  stop(): void {
    this.#stopped = true;
    this.#chunks = [];
    this.#size = 0;
  }
}
