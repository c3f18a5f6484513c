// Pipe() and Connection: each copy of an end receives into its own mailbox; senders write straight to
// the process holding the other end's newest copy (not through the creator, which only keeps the
// directory of copies and says when an end is closed everywhere, or its last holder is dead). Depends
// on the broker and reduction.
import { randomInt } from 'node:crypto';
import { Socket } from 'node:net';
import { getBroker, held, type Peer, type Served } from './broker/broker';
import { OP_PIPE_ATTACH, OP_PIPE_BACKLOG, OP_PIPE_CLOSE, OP_PIPE_DATA, OP_PIPE_DUP, OP_PIPE_RELEASE, OP_PIPE_RETURN, PUSH_PIPE_EOF, PUSH_PIPE_ROUTE } from './broker/ops';
import type { Frame } from './broker/frame';
import { Remote, type OwnerRef } from './broker/remote';
import { Mailbox, type Message } from './broker/mailbox';
import { created, PipeTraffic, waiting } from './broker/report';
import { decodeIfItem, decodeItem, encodeItem } from './broker/codec';
import { BrokenPipeError, BufferTooShort, EOFError, OSError, ValueError } from './errors';
import { readTimeout, type TimeoutOptions } from './timeouts';
import { Client, Listener } from './listener';
import { answerChallenge, deliverChallenge } from './challenge';
import { reduceSymbol, registerReviver, type ReducedObject, type TransferContext } from './reduction';
import { deserializeReduced, holdsReducible, serializeReducing } from './serialize';

const KIND_OBJECT = 0;
const KIND_BYTES = 1;
/** An object holding runtime objects (a Connection, a Queue…): they cross as descriptors, as pickle reduces them. */
const KIND_REDUCED = 2;
/** Set on a message's kind when its body starts with its message id for the hub's trace (one byte of length, ASCII). */
const KIND_TRACED = 0x80;
/** `u8 kind | u32 sender copy | u32 target copy` before each message's body. */
const PREFIX_BYTES = 9;
/**
 * How long a copy that never attached outlives the death of what held it: long enough for an attach
 * already on its way (its receiver revived it just before) to land first.
 */
const RELEASE_GRACE_MS = 50;
/** After a holder's death (message counts unknown), the least time given to what it wrote to reach us… */
const UNKNOWN_COUNT_GRACE_MS = 50;
/** …and the most, should one of its connections to us not close (it always does when it is dead). */
const UNKNOWN_COUNT_LIMIT_MS = 1000;

/** A context (process or thread) that died holding copies of an end. */
interface Dead {
  pid: number;
  threadId: number;
}

/** An end closed everywhere: how many messages to expect in all, or null and who died unknown. */
interface Eof {
  expected: number | null;
  dead?: Dead[];
}

/** Where the other end's newest copy receives: its own server, or the directory when it is in the creator. */
interface Route {
  copy: number;
  address: string;
  index: number;
}

// ---- the creator's directory of copies ------------------------------------------------------

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

class PipeDirectory implements Served {
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
    const heir = this.#open(end).filter((c) => c.id !== from).at(-1);
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

// ---- one copy of one end --------------------------------------------------------------------

function messageOf(frame: Frame): Message {
  return { kind: frame.payload.readUInt8(0), body: frame.payload.subarray(PREFIX_BYTES) };
}

/** Revived copies still open in this context: an exit that did not close them still reports their counts. */
const openRevived = new Set<PipeEnd>();
let exitHooked = false;

function closeAtExit(end: PipeEnd): void {
  openRevived.add(end);
  if (exitHooked) return;
  exitHooked = true;
  // A write here goes out synchronously when the socket is free; if not, the creator falls back to
  // "counts unknown" when the connection drops, as after a kill.
  process.once('exit', () => {
    for (const open of [...openRevived]) open.close();
  });
}

let nextCopy = 1;
function newCopyId(local: boolean): number {
  // The creator numbers its copies; copies made elsewhere take a random id that cannot collide with those.
  return local ? nextCopy++ : randomInt(0x4000_0000, 0xffff_fff0);
}

/** What a reduced Connection carries. */
export interface EndState {
  address: string;
  index: number;
  end: 0 | 1;
  copy: number;
  readable: boolean;
  writable: boolean;
  id: string;
}

/** One copy of one end: its mailbox, its route to the other end, its counts for an exact EOF. */
class PipeEnd implements Served {
  readonly end: 0 | 1;
  readonly copy: number;
  readonly directory: PipeDirectory | undefined;
  readonly #remote: Remote | undefined;
  #route: Route | undefined;
  #index = 0;
  readonly #inbox = new Mailbox();
  /** Per sender copy: the next sequence number expected, and messages that came early. */
  readonly #order = new Map<number, { next: number; early: Map<number, Message> }>();
  #received = 0;
  /** Set when every copy of the other end closed: how many messages to expect in all (null: unknown). */
  #eof: Eof | undefined;
  #eofReady = false;
  readonly #sent = new Map<number, number>();
  /** The connections messages came in on, so a dead sender's can be read to their end. */
  readonly #senders = new Set<Peer>();
  #closed = false;
  #creatorGone = false;
  #unsubscribe: (() => void) | undefined;
  attached: Promise<void> = Promise.resolve();

  constructor(end: 0 | 1, copy: number, directory: PipeDirectory | undefined, remote: Remote | undefined) {
    this.end = end;
    this.copy = copy;
    this.directory = directory;
    this.#remote = remote;
    if (directory) {
      directory.addLocal(this);
      this.#route = directory.routeTo((1 - end) as 0 | 1);
    }
  }

  /** A copy revived away from the creator: serve its mailbox here, then tell the creator. */
  attach(): void {
    const broker = getBroker();
    const address = broker.listen();
    this.#index = broker.serve(this);
    const remote = this.#remote!;
    this.#unsubscribe = remote.peer.subscribe(this.copy, (frame) => this.#onPush(frame));
    const payload = JSON.stringify({ id: this.copy, end: this.end, address, index: this.#index });
    this.attached = remote.request(OP_PIPE_ATTACH, Buffer.from(payload)).then(
      (reply) => {
        const { route, eof, released } = JSON.parse(reply.toString('utf8')) as { route?: Route; eof?: Eof; released?: true };
        if (released) return this.endOfFile({ expected: 0 });
        if (!this.#route) this.#route = route;
        if (eof) this.endOfFile(eof);
      },
      () => this.endOfFile({ expected: null }),
    );
    remote.peer.onClose(() => {
      this.#creatorGone = true;
      this.endOfFile({ expected: null });
    });
    closeAtExit(this);
  }

  #onPush(frame: Frame): void {
    const body = JSON.parse(frame.payload.toString('utf8')) as unknown;
    if (frame.op === PUSH_PIPE_ROUTE) this.setRoute((body as Route | null) ?? undefined);
    else if (frame.op === PUSH_PIPE_EOF) this.endOfFile(body as Eof);
  }

  setRoute(route: Route | undefined): void {
    this.#route = route;
  }

  get peerClosed(): boolean {
    return this.#eof !== undefined;
  }

  send(kind: number, body: Uint8Array): Promise<void> {
    if (this.#eof) throw new BrokenPipeError('the other end of the pipe is closed');
    const route = this.#route;
    if (!route) return held(this.attached).then(() => (this.#route ? this.send(kind, body) : Promise.reject(new BrokenPipeError())));
    const seq = (this.#sent.get(route.copy) ?? 0) + 1;
    this.#sent.set(route.copy, seq);
    const prefix = Buffer.allocUnsafe(PREFIX_BYTES);
    prefix.writeUInt8(kind, 0);
    prefix.writeUInt32BE(this.copy, 1);
    prefix.writeUInt32BE(route.copy, 5);
    const broker = getBroker();
    if (this.directory && (route.address === '' || broker.isLocal(route.address))) {
      // The other end is here, or not attached yet: the creator's directory delivers or holds it.
      this.directory.deliver({ op: OP_PIPE_DATA, object: route.index, request: seq, payload: Buffer.concat([prefix, body]) });
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      broker.peer(route.address).sendParts(route.index, OP_PIPE_DATA, [prefix, body], seq, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** A message for this copy arrived (in order per sender, or held until its turn) over `from`. */
  receive(frame: Frame, from?: Peer): void {
    if (this.#closed) return this.#handBack([messageOf(frame)]);
    if (from) this.#senders.add(from);
    const sender = frame.payload.readUInt32BE(1);
    const message = messageOf(frame);
    let order = this.#order.get(sender);
    if (!order) this.#order.set(sender, (order = { next: 1, early: new Map() }));
    if (frame.request !== order.next) {
      order.early.set(frame.request, message);
      return;
    }
    this.#accept(message);
    order.next++;
    for (let early = order.early.get(order.next); early; early = order.early.get(order.next)) {
      order.early.delete(order.next);
      this.#accept(early);
      order.next++;
    }
    this.#checkEof();
  }

  receiveBacklog(message: Message): void {
    if (this.#closed) return this.#handBack([message]);
    this.#received--; // not among the counted messages
    this.#accept(message);
  }

  #accept(message: Message): void {
    this.#received++;
    this.#inbox.push(message);
  }

  endOfFile(eof: Eof): void {
    if (this.#eof) return;
    this.#eof = eof;
    if (eof.expected === null) {
      // Counts unknown (a holder died): what it wrote is in our sockets; read it first. A connection
      // from a dead context closes only after all it carried was read, so wait for those to close.
      const dead = eof.dead ?? [];
      const theirs = [...this.#senders].filter((p) => !p.closed && dead.some((d) => d.pid === p.pid && d.threadId === p.threadId));
      let left = theirs.length + 1;
      const timers: NodeJS.Timeout[] = [];
      const settle = (now?: boolean) => {
        if (this.#eofReady || (--left > 0 && !now)) return;
        this.#eofReady = true;
        for (const timer of timers) clearTimeout(timer);
        this.#checkEof();
      };
      for (const peer of theirs) peer.onClose(() => settle());
      timers.push(setTimeout(() => settle(), UNKNOWN_COUNT_GRACE_MS).unref(), setTimeout(() => settle(true), UNKNOWN_COUNT_LIMIT_MS).unref());
    }
    this.#checkEof();
  }

  #checkEof(): void {
    const eof = this.#eof;
    if (!eof) return;
    if (eof.expected !== null && this.#received >= eof.expected) this.#eofReady = true;
    if (this.#eofReady) this.#inbox.end();
  }

  /** The next message, or undefined at end of file. */
  take(): Message | undefined | Promise<Message | undefined> {
    return this.#inbox.take();
  }

  /** True when a message (or end of file) is there now. */
  get ready(): boolean {
    return this.#inbox.ready;
  }

  /** Resolves true when a message or end of file is there, false after `timeout` ms or on cancel. */
  watch(timeout: number | null): { promise: Promise<boolean>; cancel: () => void } {
    return this.#inbox.watch(timeout);
  }

  async poll(timeout: number | null): Promise<boolean> {
    // A revived copy first learns from the creator whether the other end is already closed.
    await held(this.attached);
    const { promise } = this.watch(timeout);
    return this.ready ? promise : held(promise);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    openRevived.delete(this);
    const sentTo = Object.fromEntries(this.#sent);
    // What this copy did not read stays in the pipe for the end's other copies (a child that polled and
    // exited, a parent that closed its copy after start()). Messages still on their way here are handed
    // on as they arrive: this copy stays served for that.
    const unread = [...this.#inbox.drain(), ...[...this.#order.values()].flatMap((o) => [...o.early.values()])];
    this.#handBack(unread);
    if (this.directory) this.directory.close(this.copy, sentTo);
    else if (!this.#creatorGone) this.#remote!.send(OP_PIPE_CLOSE, Buffer.from(JSON.stringify({ id: this.copy, sentTo })));
    this.#unsubscribe?.();
    this.#inbox.close(new OSError('the connection was closed'));
  }

  /** Messages this closed copy will not read, to the directory (which gives them to another copy of the end). */
  #handBack(messages: Message[]): void {
    for (const message of messages) {
      if (this.directory) this.directory.returned(this.copy, message);
      else if (!this.#creatorGone) {
        const head = Buffer.allocUnsafe(5);
        head.writeUInt32BE(this.copy, 0);
        head.writeUInt8(message.kind, 4);
        this.#remote!.send(OP_PIPE_RETURN, Buffer.concat([head, message.body]));
      }
    }
  }

  /** A copy for another process: registered with the creator before it leaves, let go if its receiver is gone first. */
  duplicate(context: TransferContext): EndState & { id: string } {
    const copy = newCopyId(this.directory !== undefined);
    const directory = this.directory;
    if (directory) {
      const address = directory.share();
      // The newest copy is where the end now reads: unread messages move with it, as they would stay in an OS pipe.
      directory.addPending(copy, this.end, this.#inbox.drain());
      context.receiverGone?.push(() => directory.release(copy));
      return { address, index: directory.index, end: this.end, copy, readable: true, writable: true, id: '' };
    }
    const remote = this.#remote!;
    remote.send(OP_PIPE_DUP, Buffer.from(JSON.stringify({ id: copy, end: this.end })));
    context.receiverGone?.push(() => {
      // A creator that is gone took its directory with it: nothing to tell, nothing to reconnect to.
      if (!this.#creatorGone) remote.send(OP_PIPE_RELEASE, Buffer.from(JSON.stringify({ id: copy })));
    });
    return { address: remote.ref.address, index: remote.ref.index, end: this.end, copy, readable: true, writable: true, id: '' };
  }

  onFrame(peer: Peer, frame: Frame): void {
    if (frame.op === OP_PIPE_DATA) this.receive(frame, peer);
    else if (frame.op === OP_PIPE_BACKLOG) this.receiveBacklog({ kind: frame.payload.readUInt8(0), body: frame.payload.subarray(1) });
  }

  onPeerClosed(): void {}
}

// ---- the public face ------------------------------------------------------------------------

/** What a Connection reads and writes through: a copy of a Pipe's end, or a Listener/Client socket. */
export interface Endpoint {
  send(kind: number, body: Uint8Array): Promise<void>;
  /** The next message, or undefined at end of file. */
  take(): Message | undefined | Promise<Message | undefined>;
  poll(timeout: number | null): Promise<boolean>;
  watch(timeout: number | null): { promise: Promise<boolean>; cancel: () => void };
  close(): void;
  /** What another process revives a copy of this end from; throws when it cannot cross. */
  duplicate(context: TransferContext): EndState;
}

/** One end of a pipe: send()/recv() structured-cloneable objects, or raw bytes. Python: multiprocessing.connection.Connection */
export class Connection {
  readonly #end: Endpoint;
  readonly #readable: boolean;
  readonly #writable: boolean;
  readonly #id: string;
  /** What this copy sent and received, reported by this context (so the hub sees the pipe's ends). */
  #traffic: PipeTraffic | undefined;

  /** @internal Made by Pipe() or revived; not constructed by users. */
  constructor(end: Endpoint, readable = true, writable = true, id = '') {
    this.#end = end;
    this.#readable = readable;
    this.#writable = writable;
    this.#id = id;
  }

  get readable(): boolean {
    return this.#readable;
  }

  get writable(): boolean {
    return this.#writable;
  }

  /** True once close() was called here. Python: Connection.closed */
  get closed(): boolean {
    return this.#closedHere;
  }
  #closedHere = false;

  #check(writing: boolean): void {
    if (this.#closedHere) throw new OSError('handle is closed');
    if (writing && !this.#writable) throw new OSError('connection is read-only');
    if (!writing && !this.#readable) throw new OSError('connection is write-only');
  }

  /** Sends a structured-cloneable object; resolves once it is on its way (awaiting it gives backpressure). Python: Connection.send */
  send(obj: unknown): Promise<void> {
    this.#check(true);
    // A Connection (or queue, lock…) inside crosses as a copy, held by this process until it is received.
    const reduced = holdsReducible(obj);
    const body = reduced ? serializeReducing(obj as object, 'obj') : encodeItem(obj);
    const traffic = (this.#traffic ??= new PipeTraffic(this.#id));
    const id = traffic.traceId();
    traffic.sent(body.length, obj, false, id);
    return quiet(this.#end.send((reduced ? KIND_REDUCED : KIND_OBJECT) | (id === undefined ? 0 : KIND_TRACED), traced(body, id)));
  }

  /** Sends raw bytes, or the `size` bytes from `offset` (a slice past the end is a ValueError, as Python's). Python: Connection.send_bytes */
  sendBytes(buf: Uint8Array, offset = 0, size?: number): Promise<void> {
    this.#check(true);
    const [start, length] = sliceOf(buf, offset, size);
    const body = Buffer.from(buf.buffer, buf.byteOffset + start, length);
    const traffic = (this.#traffic ??= new PipeTraffic(this.#id));
    const id = traffic.traceId();
    traffic.sent(body.length, body, true, id);
    return quiet(this.#end.send(KIND_BYTES | (id === undefined ? 0 : KIND_TRACED), traced(body, id)));
  }

  async #take(): Promise<Message> {
    this.#check(false);
    const now = this.#end.take();
    let message: Message | undefined;
    if (now instanceof Promise) {
      const done = waiting({ id: this.#id, kind: 'Pipe' });
      try {
        message = await held(now);
      } finally {
        done();
      }
    } else message = now;
    if (!message) throw new EOFError();
    if (message.kind & KIND_TRACED) {
      const length = message.body[0]!;
      const id = Buffer.from(message.body.buffer, message.body.byteOffset + 1, length).toString('latin1');
      message = { kind: message.kind & ~KIND_TRACED, body: message.body.subarray(1 + length) };
      (this.#traffic ??= new PipeTraffic(this.#id)).received(message.body.length, id);
    } else (this.#traffic ??= new PipeTraffic(this.#id)).received(message.body.length);
    return message;
  }

  /** Resolves with the next object (bytes that sendBytes() sent come back as bytes); rejects EOFError once every copy of the other end is closed. Python: Connection.recv */
  async recv<T = unknown>(): Promise<T> {
    const message = await this.#take();
    if (message.kind === KIND_REDUCED) return deserializeReduced(message.body) as T;
    if (message.kind !== KIND_BYTES) return decodeItem(message.body) as T;
    // Bytes that a send() made, relayed by recvBytes()/sendBytes(), are that object again (Python: a
    // pickle is bytes); other bytes come back as bytes.
    const relayed = decodeIfItem(message.body);
    return (relayed ? relayed.value : message.body) as T;
  }

  /** Resolves with the next message's bytes; rejects EOFError at end of file. Python: Connection.recv_bytes */
  async recvBytes(maxlength?: number): Promise<Buffer> {
    const message = await this.#take();
    if (maxlength !== undefined && message.body.length > maxlength) throw new OSError('bad message length');
    return message.kind === KIND_BYTES ? message.body : Buffer.from(message.body);
  }

  /**
   * Resolves with the next message's bytes copied into `buffer` from byte `offset`, and their count;
   * rejects BufferTooShort (holding the whole message) when they do not fit. Python: Connection.recv_bytes_into
   */
  async recvBytesInto(buffer: ArrayBufferView | ArrayBuffer, offset = 0): Promise<number> {
    const target = ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : undefined;
    if (!target) throw new TypeError('recvBytesInto() takes a typed array, a Buffer, a DataView or an ArrayBuffer');
    if (!Number.isInteger(offset)) throw new TypeError(`offset must be an integer, got ${String(offset)}`);
    if (offset < 0) throw new ValueError('negative offset');
    if (offset > target.byteLength) throw new ValueError('offset too large');
    const message = await this.#take();
    const size = message.body.length;
    if (offset + size > target.byteLength) throw new BufferTooShort(Buffer.from(message.body));
    target.set(message.body, offset);
    return size;
  }

  /**
   * True when a message is waiting (or the other end closed); waits up to `timeout` ms (`poll(100)`
   * or `poll({ timeout: 100 })`), null for ever. @default 0 Python: Connection.poll
   */
  poll(timeout: number | null | TimeoutOptions = 0): Promise<boolean> {
    this.#check(false);
    let ms: number | undefined;
    try {
      // Python's default is 0 ("do not wait"), and None waits for ever: `{}` keeps the default.
      ms = typeof timeout === 'object' && timeout !== null && timeout.timeout === undefined ? 0 : readTimeout(timeout, 'Connection.poll', true);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#end.poll(ms ?? null);
  }

  /** Closes this copy; the other end sees EOFError once every copy of this end is closed. Python: Connection.close */
  close(): void {
    if (this.#closedHere) return;
    this.#closedHere = true;
    this.#end.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** A Connection crosses as a new copy of its end: closing this one afterwards never affects it. */
  [reduceSymbol](context: TransferContext): ReducedObject {
    if (this.#closedHere) throw new OSError('handle is closed');
    const state = { ...this.#end.duplicate(context), readable: this.#readable, writable: this.#writable, id: this.#id };
    return { kind: 'Connection', state };
  }

  /** @internal For connection.wait(). */
  get end(): Endpoint {
    return this.#end;
  }
}

/** Python's checks of send_bytes(buf, offset, size): `[start, length]` inside `buf`, or a ValueError. */
function sliceOf(buf: Uint8Array, offset: number, size: number | undefined): [number, number] {
  if (!Number.isInteger(offset)) throw new TypeError(`offset must be an integer, got ${String(offset)}`);
  if (size !== undefined && !Number.isInteger(size)) throw new TypeError(`size must be an integer, got ${String(size)}`);
  const n = buf.byteLength;
  if (offset < 0) throw new ValueError('offset is negative');
  if (n < offset) throw new ValueError('buffer length < offset');
  if (size === undefined) return [offset, n - offset];
  if (size < 0) throw new ValueError('size is negative');
  if (offset + size > n) throw new ValueError('buffer length < offset + size');
  return [offset, size];
}

/** A send nobody awaits must not crash the program; a later send or recv reports the problem. */
function quiet(promise: Promise<void>): Promise<void> {
  promise.catch(() => {});
  return promise;
}

/** A copy of an end, revived from what duplicate() made: attached to its directory, here or at the creator. */
registerReviver('Connection', (reduced) => {
  const state = reduced as EndState;
  const directory = getBroker().isLocal(state.address) ? (getBroker().served(state.index) as PipeDirectory | undefined) : undefined;
  const remote = directory ? undefined : new Remote({ address: state.address, index: state.index, slot: -1 } satisfies OwnerRef);
  const end = new PipeEnd(state.end, state.copy, directory, remote);
  if (!directory) end.attach();
  return new Connection(end, state.readable, state.writable, state.id);
});

/** Two connected ends; with `duplex: false`, `[receiver, sender]`. Python: multiprocessing.Pipe */
export function Pipe(options: { duplex?: boolean } = {}): [Connection, Connection] {
  const duplex = options.duplex ?? true;
  const id = created('Pipe');
  const directory = new PipeDirectory();
  const a = new PipeEnd(0, newCopyId(true), directory, undefined);
  const b = new PipeEnd(1, newCopyId(true), directory, undefined);
  a.setRoute(directory.routeTo(1));
  return [new Connection(a, true, duplex, id), new Connection(b, duplex, true, id)];
}

/** What connection.wait() watches: a Connection, a socket (net.Socket), or a process's `sentinel`. */
export type Waitable = Connection | Socket | Promise<unknown>;

/** Per socket: one lasting 'readable' listener (adding and removing one per wait would lose wake-ups). */
const socketWatchers = new WeakMap<Socket, Set<() => void>>();

function socketReady(socket: Socket): boolean {
  const state = (socket as unknown as { _readableState?: { ended?: boolean } })._readableState;
  return socket.readableLength > 0 || socket.readableEnded || socket.destroyed || state?.ended === true;
}

function watchSocket(socket: Socket, wake: () => void): () => void {
  let wakers = socketWatchers.get(socket);
  if (!wakers) {
    const all = new Set<() => void>();
    wakers = all;
    socketWatchers.set(socket, all);
    const fire = () => {
      for (const w of [...all]) w();
    };
    socket.on('readable', fire);
    socket.on('end', fire);
    socket.on('close', fire);
  }
  wakers.add(wake);
  return () => wakers.delete(wake);
}

/** Settled sentinels (and other promises): a promise cannot be asked whether it has settled. */
const settledPromises = new WeakSet<Promise<unknown>>();
const trackedPromises = new WeakSet<Promise<unknown>>();

function trackPromise(promise: Promise<unknown>): void {
  if (trackedPromises.has(promise)) return;
  trackedPromises.add(promise);
  const settled = () => void settledPromises.add(promise);
  promise.then(settled, settled);
}

function isSocket(value: unknown): value is Socket {
  return value instanceof Socket;
}

/**
 * Resolves with the objects that are ready, or [] after `{ timeout }` ms: a Connection with a message
 * (or end of file), a socket with data (or end of file), a process's `sentinel` once it ended.
 * Python: multiprocessing.connection.wait
 */
export async function wait<T extends Waitable>(objects: readonly T[], options?: TimeoutOptions): Promise<T[]> {
  const timeout = readTimeout(options, 'connection.wait');
  for (const o of objects) {
    if (o instanceof Promise) trackPromise(o);
    else if (!(o instanceof Connection) && !isSocket(o)) throw new TypeError(`connection.wait() takes Connections, sockets and process sentinels, not ${o === null ? 'null' : typeof o}`);
  }
  // One turn of the event loop lets an already settled sentinel be seen as settled.
  if (objects.some((o) => o instanceof Promise)) await new Promise<void>((r) => setImmediate(r));
  const ready = async () => {
    const flags = await Promise.all(objects.map((o) => (o instanceof Connection ? o.poll(0) : o instanceof Promise ? settledPromises.has(o) : socketReady(o as Socket))));
    return objects.filter((_, i) => flags[i]);
  };
  const now = await ready();
  if (now.length > 0 || objects.length === 0) return now;
  if (timeout !== undefined && timeout !== null && timeout <= 0) return [];
  // Every object is watched; the first that is ready (or the timeout) ends the wait and cancels the rest.
  const cancels: (() => void)[] = [];
  const watches = objects.map((o): Promise<boolean> => {
    if (o instanceof Connection) {
      const w = o.end.watch(timeout ?? null);
      cancels.push(w.cancel);
      return w.promise;
    }
    if (o instanceof Promise) return o.then(() => true, () => true);
    return new Promise<boolean>((resolve) => cancels.push(watchSocket(o as Socket, () => socketReady(o as Socket) && resolve(true))));
  });
  let timer: NodeJS.Timeout | undefined;
  if (timeout !== undefined && timeout !== null) watches.push(new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeout))));
  try {
    const any = await held(Promise.race(watches));
    return any ? ready() : [];
  } finally {
    clearTimeout(timer);
    for (const cancel of cancels) cancel();
  }
}

export { Client, Listener, type ClientOptions, type ConnectionAddress, type ListenerOptions } from './listener';
export { deliverChallenge, answerChallenge, type ChallengeConnection } from './challenge';

/** `connection.wait` under Python's module name, with Listener, Client and the challenge functions. */
export const connection = { wait, Connection, Pipe, Listener, Client, deliverChallenge, answerChallenge };

/** `body` with message id `id` in front (KIND_TRACED), or `body` itself without one. */
function traced(body: Uint8Array, id: string | undefined): Uint8Array {
  if (id === undefined) return body;
  const out = Buffer.allocUnsafe(1 + id.length + body.length);
  out[0] = id.length;
  out.write(id, 1, 'latin1');
  out.set(body, 1 + id.length);
  return out;
}
