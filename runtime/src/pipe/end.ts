// One copy of one end of a Pipe: its mailbox, its route to the other end's newest copy (senders write
// straight to it), and its counts for an exact EOF; a copy revived elsewhere attaches to the creator's
// directory. Depends on the broker and the directory.
import { randomInt } from 'node:crypto';
import { getBroker, held, type Peer, type Served } from '../broker/broker';
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
import type { Remote } from '../broker/remote';
import { Mailbox, type Message } from '../broker/mailbox';
import { BrokenPipeError, OSError } from '../errors';
import type { TransferContext } from '../reduction';
import { messageOf, PREFIX_BYTES, type Eof, type PipeDirectory, type Route } from './directory';
import { atExit } from '../atExit';

/** After a holder's death (message counts unknown), the least time given to what it wrote to reach us… */
const UNKNOWN_COUNT_GRACE_MS = 50;
/** …and the most, should one of its connections to us not close (it always does when it is dead). */
const UNKNOWN_COUNT_LIMIT_MS = 1000;

/** Revived copies still open in this context: an exit that did not close them still reports their counts. */
const openRevived = new Set<PipeEnd>();
let exitHooked = false;

function closeAtExit(end: PipeEnd): void {
  openRevived.add(end);
  if (exitHooked) return;
  exitHooked = true;
  // A write here goes out synchronously when the socket is free; if not, the creator falls back to
  // "counts unknown" when the connection drops, as after a kill.
  atExit(() => {
    for (const open of [...openRevived]) open.close();
  });
}

let nextCopy = 1;
export function newCopyId(local: boolean): number {
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
export class PipeEnd implements Served {
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
