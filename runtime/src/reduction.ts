// How runtime objects (queues, pipes, locks, shared memory, proxies…) cross into a child: as a small
// data-only descriptor that the child revives, the way pickle's __reduce__ works. Everything else
// crosses by structured clone.
//
// CONTRACT between the process/pool code (issue 3), which walks arguments and Process-subclass
// fields, and the object code (issue 4), which implements reduce/revive for each kind.
import type { TransferListItem } from 'node:worker_threads';
import type { StartMethod } from './protocol';

/** Implemented by every object that must cross as a descriptor. */
export const reduceSymbol: unique symbol = Symbol.for('forkscope.reduce') as never;

export interface TransferContext {
  /** How the receiving side is started: `thread` may share SharedArrayBuffers and MessagePorts. */
  startMethod: StartMethod;
  /** Transferables to hand to postMessage (thread start method only). */
  transfer: TransferListItem[];
  /**
   * Set when everything crosses to one known receiver (Process.start): the sender calls each function
   * once that receiver has exited or failed to start, so what was reduced for it alone is let go.
   */
  receiverGone?: Array<() => void>;
}

/** A structured-cloneable descriptor: `kind` names the reviver, `state` is data only. */
export interface ReducedObject {
  kind: string;
  state: unknown;
}

export interface Reducible {
  [reduceSymbol](context: TransferContext): ReducedObject;
}

export function isReducible(value: unknown): value is Reducible {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Reducible>)[reduceSymbol] === 'function';
}

const revivers = new Map<string, (state: unknown) => unknown>();

/** Registers how a kind is rebuilt on the receiving side; called once per kind at module load. */
export function registerReviver(kind: string, revive: (state: unknown) => unknown): void {
  revivers.set(kind, revive);
}

export function reviveObject(reduced: ReducedObject): unknown {
  const revive = revivers.get(reduced.kind);
  if (!revive) throw new TypeError(`forkscope cannot rebuild a ${reduced.kind} in this process: its module was not loaded`);
  return revive(reduced.state);
}
