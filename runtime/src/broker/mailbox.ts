// One reader's side of a connection: the messages that arrived, the recv() and poll() calls waiting for
// one, and end of file. Shared by a Pipe's ends (connection.ts) and Listener/Client sockets (socketEnd.ts);
// knows nothing of how messages travel.
import { Fifo, LocalWaiter } from './waiters';

/** One message: its kind (an object, raw bytes, an object holding runtime objects) and its body. */
export interface Message {
  kind: number;
  body: Buffer;
}

export class Mailbox {
  readonly #messages = new Fifo<Message>();
  readonly #receivers = new Fifo<LocalWaiter<Message | undefined>>();
  readonly #pollers = new Set<LocalWaiter<boolean>>();
  #ended = false;

  /** True when a message (or end of file) is there now. */
  get ready(): boolean {
    return this.#messages.length > 0 || this.#ended;
  }

  /** A message arrived: to the oldest waiting receiver, else kept. */
  push(message: Message): void {
    for (let r = this.#receivers.shift(); r; r = this.#receivers.shift()) {
      if (r.done) continue;
      r.settle(message);
      return;
    }
    this.#messages.push(message);
    this.#wakePollers();
  }

  /** No message will come after those kept: pollers wake, and receivers get undefined once none is left. */
  end(): void {
    this.#ended = true;
    this.#wakePollers();
    if (this.#messages.length > 0) return;
    for (let r = this.#receivers.shift(); r; r = this.#receivers.shift()) r.settle(undefined);
  }

  /** The next message, or undefined at end of file, or a Promise of either. */
  take(): Message | undefined | Promise<Message | undefined> {
    const message = this.#messages.shift();
    if (message) return message;
    if (this.#ended) return undefined;
    const waiter = new LocalWaiter<Message | undefined>();
    this.#receivers.push(waiter);
    return waiter.promise;
  }

  /** Resolves true when a message or end of file is there, false after `timeout` ms (null: never) or on cancel. */
  watch(timeout: number | null): { promise: Promise<boolean>; cancel: () => void } {
    if (this.ready) return { promise: Promise.resolve(true), cancel: () => {} };
    if (timeout !== null && timeout <= 0) return { promise: Promise.resolve(false), cancel: () => {} };
    const waiter = new LocalWaiter<boolean>();
    this.#pollers.add(waiter);
    const cancel = () => {
      this.#pollers.delete(waiter);
      waiter.settle(false);
    };
    waiter.arm(timeout ?? undefined, cancel);
    return { promise: waiter.promise, cancel };
  }

  /** Takes every kept message out (they move to another copy of the end). */
  drain(): Message[] {
    return this.#messages.remove(() => true);
  }

  /** The reader closed: waiting receivers fail with `error`, pollers answer false. */
  close(error: Error): void {
    for (let r = this.#receivers.shift(); r; r = this.#receivers.shift()) r.fail(error);
    for (const p of this.#pollers) p.settle(false);
    this.#pollers.clear();
  }

  #wakePollers(): void {
    for (const p of this.#pollers) p.settle(true);
    this.#pollers.clear();
  }
}
