// Small integers that other processes read synchronously (Event.isSet(), qsize(), locked()), kept in
// a file in the owner's 0700 directory: a read is one pread, no message, so a child spinning on
// `isSet()` sees a set() from anywhere. Node's own modules only.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getBroker } from './broker';
import { atExit } from '../atExit';

const SLOT_BYTES = 4;

/** The owner's side: allocates slots and writes them, at once or coalesced per event-loop turn. */
class SlotTable {
  #fd: number | undefined;
  #next = 0;
  #dirty = new Map<number, number>();
  #flushScheduled = false;

  /** The file's path (beside the broker's socket); starts the broker's server when needed. */
  get path(): string {
    return join(dirname(getBroker().listen()), 'slots');
  }

  allocate(initial: number): number {
    this.#fd ??= openSync(this.path, 'w+', 0o600);
    const slot = this.#next++;
    this.write(slot, initial);
    return slot;
  }

  write(slot: number, value: number): void {
    this.#dirty.delete(slot);
    const bytes = Buffer.allocUnsafe(SLOT_BYTES);
    bytes.writeInt32LE(value | 0, 0);
    writeSync(this.#fd!, bytes, 0, SLOT_BYTES, slot * SLOT_BYTES);
  }

  /** For values read approximately (queue depth, lock state): one write per slot per turn. */
  writeSoon(slot: number, value: number): void {
    this.#dirty.set(slot, value);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      for (const [dirtySlot, dirtyValue] of [...this.#dirty]) this.write(dirtySlot, dirtyValue);
    }).unref();
  }

  read(slot: number): number {
    return readSlotFd(this.#fd!, slot);
  }

  /** Writes the coalesced values now (nothing to do, the usual case, costs one size check). */
  flush(): void {
    if (this.#dirty.size === 0) return;
    for (const [dirtySlot, dirtyValue] of [...this.#dirty]) this.write(dirtySlot, dirtyValue);
  }
}

let table: SlotTable | undefined;

/**
 * Publishes this context's pending slot values at once: a shared-memory lock's release calls it, so
 * the next holder (elsewhere, told by no message) reads what was published before the release.
 */
export function flushSlots(): void {
  table?.flush();
}
export function ownSlots(): SlotTable {
  return (table ??= new SlotTable());
}

function readSlotFd(fd: number, slot: number): number {
  const bytes = Buffer.allocUnsafe(SLOT_BYTES);
  const read = readSync(fd, bytes, 0, SLOT_BYTES, slot * SLOT_BYTES);
  return read === SLOT_BYTES ? bytes.readInt32LE(0) : 0;
}

const openFiles = new Map<string, number>();

/** A slot in another context's file, named by that context's broker address. */
export class RemoteSlot {
  readonly #path: string;
  readonly #slot: number;

  constructor(ownerAddress: string, slot: number) {
    this.#path = join(dirname(ownerAddress), 'slots');
    this.#slot = slot;
  }

  #fd(): number | undefined {
    let fd = openFiles.get(this.#path);
    if (fd === undefined) {
      try {
        fd = openSync(this.#path, 'r+');
      } catch {
        return undefined; // the owner has gone and its directory with it
      }
      openFiles.set(this.#path, fd);
    }
    return fd;
  }

  read(): number {
    const fd = this.#fd();
    return fd === undefined ? 0 : readSlotFd(fd, this.#slot);
  }

  write(value: number): void {
    const fd = this.#fd();
    if (fd === undefined) return;
    const bytes = Buffer.allocUnsafe(SLOT_BYTES);
    bytes.writeInt32LE(value | 0, 0);
    writeSync(fd, bytes, 0, SLOT_BYTES, this.#slot * SLOT_BYTES);
  }
}

atExit(() => {
  for (const fd of openFiles.values()) closeSync(fd);
});
