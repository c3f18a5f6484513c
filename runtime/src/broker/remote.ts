// A revived object's way back to its owner: the owner's address, the object's index there, and the
// slot it publishes for synchronous reads. Knows the broker, nothing about what the object is.
import { threadId } from 'node:worker_threads';
import { getBroker, type Peer } from './broker';
import { RemoteSlot } from './slots';

/** What every reduced queue, pipe or lock carries. */
export interface OwnerRef {
  address: string;
  index: number;
  /** -1 when the object publishes nothing to read synchronously. */
  slot: number;
  /** The object's program-wide id (as reported to the hub), so a remote wait names the very object. */
  id?: string;
}

export class Remote {
  readonly ref: OwnerRef;
  readonly slot: RemoteSlot | undefined;
  #peer: Peer | undefined;

  constructor(ref: OwnerRef) {
    this.ref = ref;
    this.slot = ref.slot >= 0 ? new RemoteSlot(ref.address, ref.slot) : undefined;
  }

  /** The connection to the owner, reopened if it closed. */
  get peer(): Peer {
    const peer = this.#peer;
    if (peer && !peer.closed) return peer;
    return (this.#peer = getBroker().peer(this.ref.address));
  }

  request(op: number, payload?: Uint8Array): Promise<Buffer> {
    return this.peer.request(this.ref.index, op, payload);
  }

  send(op: number, payload: Uint8Array): void {
    this.peer.send(this.ref.index, op, payload);
  }
}

/** This context's identity for re-entrant locks: its process and thread. */
export const contextId: string = `${process.pid}/${threadId}`;
