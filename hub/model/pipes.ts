// The program model's pipes and channels: each message counted once (by its sender, its receiver or both), per
// direction, with the ends seen, the last previews and rates over a 5-second window.
import type { ObjectCreated, ObjectKind, ProcessKey, RuntimeEvent } from '../../runtime/src/protocol';
import type { PipeNode } from '../snapshot';
import { labelOf, SAMPLE_MS, touch, type ModelState } from './state';

/** Pipe rates are averaged over this window. */
const RATE_WINDOW_MS = 5_000;
const MAX_RECENT_PREVIEWS = 5;

export const PIPE_KINDS = new Set<ObjectKind>(['Pipe', 'Channel']);

type Direction = { sent: number; received: number; bytesSent: number; bytesReceived: number };

export interface PipeRecord extends PipeNode {
  /**
   * Per direction (`from>to`, `?` for an unknown end): what the sender counted and what the receiver
   * counted. Each message is counted once, whether one end reports it or both.
   */
  directions: Map<string, Direction>;
  /** [ts, messages, bytes] increments inside the rate window. */
  samples: Array<[number, number, number]>;
}

function pipeNode(m: ModelState, id: string): PipeRecord {
  let p = m.pipes.get(id);
  if (!p) {
    const { kind, label } = labelOf(m, id, 'Pipe');
    p = { id, kind, label, ends: [], messages: 0, bytes: 0, messagesPerSecond: 0, bytesPerSecond: 0, recent: [], directions: new Map(), samples: [] };
    m.pipes.set(id, p);
  }
  return p;
}

export function pipeCreated(m: ModelState, event: ObjectCreated, label: string): void {
  const p = pipeNode(m, event.id);
  p.kind = event.kind;
  p.label = label;
  touch(m);
}

/**
 * What `added` more counted at one end (which had counted `mine`) adds to a direction's total, when the other end
 * counted `theirs` of the same messages: only what goes past the larger count is new.
 */
function beyondOtherEnd(mine: number, theirs: number, added: number): number {
  return Math.max(0, mine + added - theirs) - Math.max(0, mine - theirs);
}

export function reducePipe(m: ModelState, key: ProcessKey, event: Extract<RuntimeEvent, { t: 'pipe' }>): void {
  const p = pipeNode(m, event.id);
  const messagesBefore = p.messages;
  const bytesBefore = p.bytes;
  const peer = event.peer ?? '?';
  if (event.sent || event.bytesSent) {
    const d = direction(p, key, peer);
    p.messages += beyondOtherEnd(d.sent, d.received, event.sent);
    p.bytes += beyondOtherEnd(d.bytesSent, d.bytesReceived, event.bytesSent);
    d.sent += event.sent;
    d.bytesSent += event.bytesSent;
  }
  if (event.received || event.bytesReceived) {
    const d = direction(p, peer, key);
    p.messages += beyondOtherEnd(d.received, d.sent, event.received);
    p.bytes += beyondOtherEnd(d.bytesReceived, d.bytesSent, event.bytesReceived);
    d.received += event.received;
    d.bytesReceived += event.bytesReceived;
  }
  if (!p.ends.includes(key)) p.ends.push(key);
  if (event.peer !== undefined && !p.ends.includes(event.peer)) p.ends.push(event.peer);
  if (event.previews) {
    for (const text of event.previews) if (typeof text === 'string') p.recent.push(text);
    if (p.recent.length > MAX_RECENT_PREVIEWS) p.recent.splice(0, p.recent.length - MAX_RECENT_PREVIEWS);
  }
  if (p.messages !== messagesBefore || p.bytes !== bytesBefore) {
    const last = p.samples[p.samples.length - 1];
    if (last && event.ts - last[0] < SAMPLE_MS) {
      last[1] += p.messages - messagesBefore;
      last[2] += p.bytes - bytesBefore;
    } else {
      p.samples.push([event.ts, p.messages - messagesBefore, p.bytes - bytesBefore]);
      const horizon = m.now - RATE_WINDOW_MS;
      let cut = 0;
      while (cut < p.samples.length - 1 && p.samples[cut]![0] < horizon) cut++;
      if (cut > 0) p.samples.splice(0, cut);
    }
  }
  touch(m);
}

/**
 * The record for messages from `from` to `to`; `?` is an end that was not named. A two-ended pipe whose
 * reports name no peer still pairs: A's sends to `?` are B's receipts from `?`.
 */
function direction(p: PipeRecord, from: string, to: string): Direction {
  let d = p.directions.get(`${from}>${to}`);
  if (d) return d;
  for (const [name, candidate] of p.directions) {
    const [f, t] = name.split('>') as [string, string];
    if (to === '?' && (f === from || (f === '?' && t !== from))) return candidate;
    if (from === '?' && (t === to || (t === '?' && f !== to))) return candidate;
    if (f === from && t === '?') return candidate;
    if (t === to && f === '?') return candidate;
  }
  d = { sent: 0, received: 0, bytesSent: 0, bytesReceived: 0 };
  p.directions.set(`${from}>${to}`, d);
  return d;
}

/** A pipe as the snapshot shows it, its rates over the window that ends at `now`. */
export function copyPipe(p: PipeRecord, now: number): PipeNode {
  let messages = 0;
  let bytes = 0;
  const horizon = now - RATE_WINDOW_MS;
  for (const [ts, m, b] of p.samples) {
    if (ts < horizon) continue;
    messages += m;
    bytes += b;
  }
  const seconds = RATE_WINDOW_MS / 1000;
  return {
    id: p.id,
    kind: p.kind,
    label: p.label,
    ends: [...p.ends],
    messages: p.messages,
    bytes: p.bytes,
    messagesPerSecond: messages / seconds,
    bytesPerSecond: bytes / seconds,
    recent: [...p.recent],
  };
}
