// Event: a flag its creating context owns and publishes in a slot, so isSet() is one read anywhere and a
// set() elsewhere writes the slot before telling the owner, which wakes the waiters.
import type { Peer } from '../broker/broker';
import type { Frame } from '../broker/frame';
import { OP_EVENT_SET, OP_EVENT_WAIT } from '../broker/ops';
import type { OwnerRef } from '../broker/remote';
import { ownSlots } from '../broker/slots';
import { Fifo, RemoteWaiter, decodeWait, encodeWait, type Waiter } from '../broker/waiters';
import { created, syncOp } from '../broker/report';
import { reduceSymbol, registerReviver, type ReducedObject, type TransferContext } from '../reduction';
import { readTimeout } from '../timeouts';
import { Backend, byte, Core, Revived, type WaitTimeout } from './backend';

class EventCore extends Core {
  #flag = false;
  readonly #waiters = new Fifo<Waiter<number>>();

  constructor(id: string) {
    super('Event', id);
  }

  /** Once shared, the slot is the truth: any process may write it synchronously. */
  get flag(): boolean {
    return this.slot >= 0 ? ownSlots().read(this.slot) === 1 : this.#flag;
  }

  protected published(): number {
    return this.#flag ? 1 : 0;
  }

  override current(): number {
    return this.flag ? 1 : 0;
  }

  set(value: boolean): void {
    this.#flag = value;
    this.publish();
    syncOp(this.id, value ? 'set' : 'clear');
    if (value) this.wake();
  }

  wake(): void {
    for (let w = this.#waiters.shift(); w; w = this.#waiters.shift()) w.settle(1);
  }

  wait(timeout: number | undefined, waiter: Waiter<number>): void {
    if (this.flag) return waiter.settle(1);
    this.#waiters.push(waiter);
    waiter.arm(timeout, () => {
      this.#waiters.remove((w) => w === waiter);
      waiter.settle(this.flag ? 1 : 0);
    });
  }

  onFrame(peer: Peer, frame: Frame): void {
    if (frame.op === OP_EVENT_WAIT) {
      const { timeout } = decodeWait(frame.payload);
      this.wait(timeout, new RemoteWaiter<number>(peer, frame.request, byte));
    } else if (frame.op === OP_EVENT_SET && this.flag) {
      // The setter wrote the slot before telling: the flag is already visible everywhere.
      this.#flag = true;
      this.wake();
    }
  }

  onPeerClosed(peer: Peer): void {
    this.#waiters.remove((w) => w.peer === peer);
  }
}

/** A flag processes wait for; isSet() is synchronous everywhere, even in a busy loop. Python: multiprocessing.Event */
export class Event {
  readonly #backend: Backend<EventCore>;

  constructor();
  /** @internal */
  constructor(revived: Revived);
  constructor(revived?: Revived) {
    this.#backend = (revived?.backend as Backend<EventCore> | undefined) ?? new Backend('Event', new EventCore(created('Event')));
  }

  /** True once set() was called and not cleared since; one file read, no message. Python: Event.is_set */
  isSet(): boolean {
    return this.#backend.read() === 1;
  }

  /** Sets the flag and wakes every waiter. Python: Event.set */
  set(): void {
    // Elsewhere the slot is written first: the flag is visible everywhere before the owner hears of it.
    this.#backend.tell((core) => core.set(true), OP_EVENT_SET, undefined, 1);
  }

  /** Clears the flag. Python: Event.clear */
  clear(): void {
    this.#backend.tell((core) => core.set(false), undefined, undefined, 0);
  }

  /** Resolves true once the flag is set, or false after `timeout` ms (`wait(100)` or `wait({ timeout: 100 })`). Python: Event.wait */
  async wait(timeout?: WaitTimeout): Promise<boolean> {
    const ms = readTimeout(timeout, 'Event.wait', true);
    if (this.isSet()) return true;
    const woken = await this.#backend.call<number>(
      (core, waiter) => core.wait(ms, waiter),
      OP_EVENT_WAIT,
      () => encodeWait(true, ms),
      (reply) => reply.readUInt8(0),
    );
    return woken === 1;
  }

  [reduceSymbol](_context: TransferContext): ReducedObject {
    return { kind: 'Event', state: this.#backend.ref() };
  }
}

registerReviver('Event', (state) => new Event(Revived.from('Event', state as OwnerRef)));
