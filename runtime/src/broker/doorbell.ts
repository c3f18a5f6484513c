// Sleeping and waking for objects whose state lives in shared memory (queues): a context that must wait
// registers with the object's creator and sleeps until the creator answers; a context whose change may end
// a sleep rings the creator, only when somebody sleeps. Knows frames and peers, not what the object holds.
import type { Frame } from './frame';
import { getBroker, type Peer, type Served } from './broker';
import { OP_DOORBELL_RING, OP_DOORBELL_SLEEP } from './ops';

/** What the doorbell reads in shared memory: whether a sleep would end now, and the bell's reset. */
export interface BellState {
  ready(kind: number): boolean;
  answered(kind: number): void;
}

interface Sleeper {
  wake: () => void;
  peer: Peer | undefined;
}

/** The creator's side: who sleeps on what, woken together when a bell rings. */
export class Doorbell implements Served {
  readonly #state: BellState;
  readonly #sleepers: Sleeper[][] = [[], [], []];
  #index = 0;

  constructor(state: BellState) {
    this.#state = state;
  }

  /** Serves the doorbell to other contexts; returns where to reach it. */
  share(): { address: string; index: number } {
    const broker = getBroker();
    const address = broker.listen();
    if (this.#index === 0) this.#index = broker.serve(this);
    return { address, index: this.#index };
  }

  /**
   * A context sleeps on `kind` (it counted itself a sleeper in shared memory and looked once more
   * first). Woken at once when the state already says go: a ring may have been answered before.
   */
  register(kind: number, wake: () => void, peer?: Peer): void {
    if (this.#state.ready(kind)) wake();
    else this.#sleepers[kind]!.push({ wake, peer });
  }

  /** Answers the bell first (the next change rings again), then wakes every sleeper of `kind`. */
  ring(kind: number): void {
    this.#state.answered(kind);
    const sleepers = this.#sleepers[kind]!;
    if (sleepers.length === 0) return;
    this.#sleepers[kind] = [];
    for (const sleeper of sleepers) sleeper.wake();
  }

  onFrame(peer: Peer, frame: Frame): void {
    const kind = frame.payload[0]!;
    if (kind >= this.#sleepers.length) return;
    if (frame.op === OP_DOORBELL_SLEEP) this.register(kind, () => peer.reply(frame.request), peer);
    else if (frame.op === OP_DOORBELL_RING) this.ring(kind);
  }

  /**
   * Its sleeps end with it. A context killed right after a change, before its ring went out, leaves
   * sleepers that would never hear: wake them when the state says go.
   */
  onPeerClosed(peer: Peer): void {
    for (let kind = 0; kind < this.#sleepers.length; kind++) {
      this.#sleepers[kind] = this.#sleepers[kind]!.filter((s) => s.peer !== peer);
      if (this.#sleepers[kind]!.length > 0 && this.#state.ready(kind)) this.ring(kind);
    }
  }
}

/** How a context reaches a doorbell: its own (the creator) or over the creator's socket. */
export class BellRope {
  readonly #local: Doorbell | undefined;
  readonly #address: string;
  readonly #index: number;
  #peer: Peer | undefined;

  constructor(local: Doorbell | undefined, address = '', index = 0) {
    this.#local = local;
    this.#address = address;
    this.#index = index;
    // Connect now: a ring sent by a context killed right after its change then reaches the creator as a close at least.
    if (!local) void this.#connection();
  }

  #connection(): Peer {
    const peer = this.#peer;
    if (peer && !peer.closed) return peer;
    return (this.#peer = getBroker().peer(this.#address));
  }

  ring(kind: number): void {
    if (this.#local) this.#local.ring(kind);
    else this.#connection().send(this.#index, OP_DOORBELL_RING, Uint8Array.of(kind));
  }

  /** Resolves when woken; rejects when the creator has gone (the caller then looks by itself). */
  sleep(kind: number): Promise<unknown> {
    if (this.#local) {
      const local = this.#local;
      return new Promise<void>((resolve) => local.register(kind, resolve));
    }
    return this.#connection().request(this.#index, OP_DOORBELL_SLEEP, Uint8Array.of(kind));
  }
}
