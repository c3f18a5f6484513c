// What a task and its result look like as a BullMQ job: the target by module and export name (plus the module's
// path relative to the caller's directory, for a deployment at another path), arguments and results through
// serialize.ts as v8 bytes in base64, an error with its name, message, remote stack and host. Both sides.
import { serialize, deserialize } from 'node:v8';
import { encode, decodeAsync, encodeThrown, decodeThrownAsync } from '../serialize';
import type { TargetRef } from '../targets';

/** A job's data. Short keys, and only what the task needs: every task carries them through Redis, as small as a raw BullMQ job's. */
export interface JobData {
  /** The target's module: absolute file path (or a URL for non-file modules). */
  m: string;
  /** The target's export name. */
  n: string;
  /** The function's own name, when it is not the export name. */
  l?: string;
  /** The target's module relative to the caller's working directory (absent when outside it). */
  r?: string;
  /** 1: fn(...item); absent: fn(item). */
  s?: 1;
  /** The items, encoded (base64 of v8 bytes); absent when they travel as `p`. */
  a?: string;
  /** The items as they are, when JSON keeps them exactly (strings, finite numbers, booleans, null). */
  p?: unknown[];
  /** The caller (host and pid), set only while it reports to a hub: the worker then says who ran the task in its result. */
  c?: string;
  /** Set by the worker when the task threw: the encoded error (base64), the worker (`name@host`), its pid and when it started the task. */
  e?: string;
  w?: string;
  wp?: number;
  st?: number;
}

/** A completed job's return value. */
export interface JobResult {
  /** The results in order, encoded (base64 of v8 bytes); absent when they travel as `p`. */
  r?: string;
  /** The results as they are, when JSON keeps them exactly. */
  p?: unknown[];
  /** Only when the job had a caller (`c`): the worker that ran it (`name@host`), its pid, and when it started the task (ms since the epoch, its clock). */
  w?: string;
  wp?: number;
  st?: number;
}

/** The target a job names. */
export function targetOf(data: JobData): TargetRef {
  return { module: data.m, name: data.n, label: data.l ?? data.n };
}

/** True when JSON gives back exactly these values: no -0, NaN, Infinity, undefined, BigInt or objects. */
export function isJsonExact(items: unknown[]): boolean {
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    const t = typeof v;
    if (t === 'string' || t === 'boolean' || v === null) continue;
    if (t === 'number' && Number.isFinite(v) && !Object.is(v, -0)) continue;
    return false;
  }
  return true;
}

export function packValue(value: unknown, path: string): string {
  return serialize(encode(value, { startMethod: 'spawn', transfer: [] }, path)).toString('base64');
}

export function unpackValue(packed: string): Promise<unknown> {
  return decodeAsync(deserialize(Buffer.from(packed, 'base64')));
}

export function packThrown(error: unknown, extra: Record<string, string | number>): string {
  const encoded = encodeThrown(error) as { props?: Record<string, unknown>; __forkscope_error__?: true };
  if (encoded && typeof encoded === 'object' && encoded.__forkscope_error__) encoded.props = { ...encoded.props, ...extra };
  return serialize(encoded).toString('base64');
}

export function unpackThrown(packed: string): Promise<unknown> {
  return decodeThrownAsync(deserialize(Buffer.from(packed, 'base64')));
}
