// Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition and Barrier, under the name of CPython's
// multiprocessing.synchronize so readers can hold them against Python's docs. One file per primitive in
// sync/; the skeleton they share (owner, remote, revive token) is sync/backend.ts, their wire ops are in
// broker/ops.ts. Importing this module registers every primitive's reviver.
export { Lock, RLock, type AcquireOptions } from './sync/lock';
export { Semaphore, BoundedSemaphore } from './sync/semaphore';
export { Event } from './sync/event';
export { Condition } from './sync/condition';
export { Barrier, type BarrierOptions } from './sync/barrier';
export type { WaitTimeout } from './sync/backend';
