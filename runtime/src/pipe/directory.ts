// The creator's directory of a Pipe's copies: which copy of each end exists where, where the other end's
// newest copy receives (pushed to every copy as it changes), and when an end is closed everywhere or its
// last holder is dead (an exact EOF: how many messages to expect). Messages do not pass through it, except
// for a copy not yet attached. Depends on the broker only.
import { getBroker, type Peer, type Served } from '../broker/broker';
import {
  OP_PIPE_ATTACH,
  OP_PIPE_BACKLOG,
  OP_PIPE_CLOSE,
  OP_PIPE_DATA,
  OP_PIPE_DUP,
  OP_PIPE_RELEASE,
  OP_PIPE_RETURN,
  PUSH_PIPE_EOF,
  PUSH_PIPE_ROUTE,
} from '../broker/ops';
import type { Frame } from '../broker/frame';
import type { Message } from '../broker/mailbox';
import type { PipeEnd } from './end';

/** `u8 kind | u32 sender copy | u32 target copy` before each message's body. */
export const PREFIX_BYTES = 9;
/**
 * How long a copy that never attached outlives the death of what held it: long enough for an attach
 * already on its way (its receiver revived it just before) to land first.
 */
const RELEASE_GRACE_MS = 50;

/** A context (process or thread) that died holding copies of an end. */
export interface Dead {
  pid: number;
  threadId: number;
}

/** An end closed everywhere: how many messages to expect in all, or null and who died unknown. */
export interface Eof {
  expected: number | null;
  dead?: Dead[];
}

/** Where the other end's newest copy receives: its own server, or the directory when it is in the creator. */
export interface Route {
  copy: number;
  address: string;
  index: number;
}

export function messageOf(frame: Frame): Message {
  return { kind: frame.payload.readUInt8(0), body: frame.payload.subarray(PREFIX_BYTES) };
}

interface CopyRecord {
  id: number;
  end: 0 | 1;
  state: 'local' | 'pending' | 'attached' | 'closed';
  /** The attached copy's process and its index there. */
  peer?: Peer;
  address?: string;
  index?: number;
  /** A copy in the creator's own process. */
  local?: PipeEnd;
  /** Messages that arrived before a pending copy attached. */
  buffered: { frame: Frame }[];
  /** Unread messages of the copy it was duplicated from (an OS pipe's buffer is shared by its copies). */
  backlog?: Message[];
  /** A pending copy made in another process: that process holds it in transit until it is revived. */
  holder?: Peer;
}

export class PipeDirectory implements Served {
  index = 0;
  readonly #copies = new Map<number, CopyRecord>();
  /** Messages sent to each copy by copies that closed (their final counts), for exact EOF. */
  readonly #sentTo = new Map<number, number>();
  readonly #unknownSenders = new Set<0 | 1>();
  /** Per end, the contexts that died holding a copy of it. */
  readonly #dead = new Map<0 | 1, Dead[]>();

  share(): string {
    const address = getBroker().listen();
    if (this.index === 0) this.index = getBroker().serve(this);
    return address;
  }

  addLocal(end: PipeEnd): void {
    const record = this.#copies.get(end.copy);
    if (record?.state === 'closed') {
      // A copy received after its holder died (it was let go in transit): closed for itself too.
      end.endOfFile({ expected: 0 });
      return;
    }
    const buffered = record?.buffered ?? [];
    this.#copies.set(end.copy, { id: end.copy, end: end.end, state: 'local', local: end, buffered: [] });
    for (const message of record?.backlog ?? []) end.receiveBacklog(message);
    for (const { frame } of buffered) end.receive(frame);
    this.#announce(end.end);
  }

  addPending(id: number, end: 0 | 1, backlog?: Message[], holder?: Peer): void {
    if (this.#copies.has(id)) return;
    this.#copies.set(id, { id, end, state: 'pending', buffered: [], backlog, holder });
    this.#announce(end);
  }

  /**
   * A copy that was never revived is let go: its one receiver is gone, or the process holding it in
   * transit died (as Python's resource_sharer dies with its process). It sent nothing, so the count
   * it closes with is exact; what was waiting for it goes back to a copy here, as an OS pipe keeps it.
   */
  release(id: number): void {
    const record = this.#copies.get(id);
    if (record?.state !== 'pending') return;
    setTimeout(() => {
      if (record.state !== 'pending') return;
      const unread = [...(record.backlog ?? []), ...record.buffered.map(({ frame }) => messageOf(frame))];
      record.backlog = undefined;
      record.buffered = [];
      this.close(id, {});
      const heir = this.#open(record.end).findLast((c) => c.state === 'local');
      for (const message of heir ? unread : []) heir!.local!.receiveBacklog(message);
    }, RELEASE_GRACE_MS).unref();
  }

  #open(end: 0 | 1): CopyRecord[] {
    return [...this.#copies.values()].filter((c) => c.end === end && c.state !== 'closed');
  }

  /** The newest open copy of `end`: where messages to that end go. */
  routeTo(end: 0 | 1): Route | undefined {
    const open = this.#open(end);
    const newest = open[open.length - 1];
    if (!newest) return undefined;
    if (newest.state === 'attached') return { copy: newest.id, address: newest.address!, index: newest.index! };
    return { copy: newest.id, address: getBroker().listeningAddress ?? '', index: this.index };
  }

  /** A message for a copy routed through here (in the creator, or not attached yet). */
  deliver(frame: Frame, from?: Peer): void {
    const target = frame.payload.readUInt32BE(5);
    const record = this.#copies.get(target);
    if (!record) return;
    if (record.state === 'closed') return this.returned(target, messageOf(frame));
    if (record.state === 'local') record.local!.receive(frame, from);
    else if (record.state === 'pending') record.buffered.push({ frame });
    else record.peer!.send(record.index!, OP_PIPE_DATA, frame.payload, frame.request);
  }

  attach(peer: Peer, id: number, end: 0 | 1, address: string, index: number): unknown {
    // Revived after it was let go (its holder died meanwhile): that copy is closed, for itself too.
    if (this.#copies.get(id)?.state === 'closed') return { released: true };
    const record = this.#copies.get(id) ?? { id, end, state: 'pending' as const, buffered: [] };
    this.#copies.set(id, record);
    Object.assign(record, { state: 'attached', peer, address, index });
    for (const message of record.backlog ?? []) peer.sendParts(index, OP_PIPE_BACKLOG, [Buffer.from([message.kind]), message.body], 0);
    record.backlog = undefined;
    for (const { frame } of record.buffered.splice(0)) peer.send(index, OP_PIPE_DATA, frame.payload, frame.request);
    this.#announce(end);
    const other = (1 - end) as 0 | 1;
    return { route: this.routeTo(other), eof: this.#open(other).length === 0 ? this.#eofFor(id) : undefined };
  }

  /**
   * A message that copy `from` will not read (it closed with it unread, or it came after the close):
   * to the newest other open copy of that end, as an OS pipe keeps what one reader left for the others.
   * Not among the counted messages, since its sender counted it for `from`. With no reader left it is dropped.
   */
  returned(from: number, message: Message): void {
    const end = this.#copies.get(from)?.end;
    if (end === undefined) return;
    const heir = this.#open(end)
      .filter((c) => c.id !== from)
      .at(-1);
    if (!heir) return;
    if (heir.state === 'local') heir.local!.receiveBacklog(message);
    else if (heir.state === 'pending') (heir.backlog ??= []).push(message);
    else heir.peer!.sendParts(heir.index!, OP_PIPE_BACKLOG, [Buffer.from([message.kind]), message.body], 0);
  }

  /** Tells every open copy of the other end where `end` now receives. */
  #announce(end: 0 | 1): void {
    const route = this.routeTo(end);
    for (const c of this.#open((1 - end) as 0 | 1)) {
      if (c.state === 'local') c.local!.setRoute(route);
      else if (c.state === 'attached') c.peer!.send(c.id, PUSH_PIPE_ROUTE, Buffer.from(JSON.stringify(route ?? null)));
    }
  }

  #eofFor(copy: number): Eof {
    const other = this.#copies.get(copy)?.end === 0 ? 1 : 0;
    if (this.#unknownSenders.has(other)) return { expected: null, dead: this.#dead.get(other) };
    return { expected: this.#sentTo.get(copy) ?? 0 };
  }

  /** Closes a copy; without `sentTo` its counts are unknown because `died` (its context) is dead. */
  close(id: number, sentTo: Record<string, number> | undefined, died?: Peer): void {
    const record = this.#copies.get(id);
    if (!record || record.state === 'closed') return;
    record.state = 'closed';
    record.buffered = [];
    if (sentTo) for (const [target, n] of Object.entries(sentTo)) this.#sentTo.set(Number(target), (this.#sentTo.get(Number(target)) ?? 0) + n);
    else {
      this.#unknownSenders.add(record.end);
      if (died?.pid) this.#dead.set(record.end, [...(this.#dead.get(record.end) ?? []), { pid: died.pid, threadId: died.threadId }]);
    }
    if (this.#open(record.end).length > 0) {
      this.#announce(record.end);
      return;
    }
    for (const c of this.#open((1 - record.end) as 0 | 1)) {
      const eof = this.#eofFor(c.id);
      if (c.state === 'local') c.local!.endOfFile(eof);
      else if (c.state === 'attached') c.peer!.send(c.id, PUSH_PIPE_EOF, Buffer.from(JSON.stringify(eof)));
    }
  }

  onFrame(peer: Peer, frame: Frame): void {
    switch (frame.op) {
      case OP_PIPE_DATA:
        return this.deliver(frame, peer);
      case OP_PIPE_ATTACH: {
        const { id, end, address, index } = JSON.parse(frame.payload.toString('utf8')) as { id: number; end: 0 | 1; address: string; index: number };
        peer.reply(frame.request, Buffer.from(JSON.stringify(this.attach(peer, id, end, address, index))));
        return;
      }
      case OP_PIPE_CLOSE: {
        const { id, sentTo } = JSON.parse(frame.payload.toString('utf8')) as { id: number; sentTo: Record<string, number> };
        return this.close(id, sentTo);
      }
      case OP_PIPE_DUP: {
        const { id, end } = JSON.parse(frame.payload.toString('utf8')) as { id: number; end: 0 | 1 };
        return this.addPending(id, end, undefined, peer);
      }
      case OP_PIPE_RELEASE: {
        const { id } = JSON.parse(frame.payload.toString('utf8')) as { id: number };
        return this.release(id);
      }
      case OP_PIPE_RETURN:
        return this.returned(frame.payload.readUInt32BE(0), { kind: frame.payload.readUInt8(4), body: frame.payload.subarray(5) });
    }
  }

  onPeerClosed(peer: Peer): void {
    // A process died holding copies: they are closed, with their message counts unknown; copies it
    // held in transit (in a queue, a pipe, or a child it started) go with it.
    for (const c of [...this.#copies.values()]) {
      if (c.state === 'attached' && c.peer === peer) this.close(c.id, undefined, peer);
      else if (c.state === 'pending' && c.holder === peer) this.release(c.id);
    }
  }
}
