// What a manager's values become on its wire: the runtime's one codec (serialize.ts: v8 structured clone, runtime
// objects reduced, functions as the runtime sends them), so a manager carries what a Queue carries. A proxy of the
// manager itself crosses as a reference (oid and typeid, never the authkey), rebuilt by whichever side decodes it.
// Node's modules and the runtime's codec only; used by the manager's clients and its server.
import { deserialize, serialize } from 'node:v8';
import { decode, encode, holdsReducible, importRefs } from '../serialize';
import { PicklingError } from '../errors';
import { registerReviver, type ReducedObject, type TransferContext } from '../reduction';

/** The reduced kind of a proxy crossing its own manager's wire. */
export const MANAGER_REF = 'forkscope.ManagerRef';

/** What a reference to an object in a manager holds: enough to call it, nothing secret. */
export interface ObjectToken {
  oid: string;
  typeid: string;
  /** The methods a proxy may call. */
  exposed: string[];
  /** The manager's address, when the reference may reach another manager's client. */
  address?: [string, number];
}

/** A TransferContext that tells proxies they cross their manager's wire (reduce to a reference, not a key). */
export interface ManagerTransferContext extends TransferContext {
  manager: true;
}

const CONTEXT: ManagerTransferContext = { startMethod: 'spawn', transfer: [], manager: true };

export function isManagerWire(context: TransferContext): boolean {
  return (context as Partial<ManagerTransferContext>).manager === true;
}

/** A proxy's reduction on its manager's wire. */
export function managerRef(token: ObjectToken): ReducedObject {
  const state: ObjectToken = { oid: token.oid, typeid: token.typeid, exposed: [...token.exposed] };
  if (token.address) state.address = [token.address[0], token.address[1]];
  return { kind: MANAGER_REF, state };
}

/** The token inside a reduced reference left as data (the server never revives), or undefined. */
export function tokenOfData(value: unknown): ObjectToken | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as { kind?: unknown; state?: unknown };
  return record.kind === MANAGER_REF ? checkToken(record.state) : undefined;
}

export function checkToken(state: unknown): ObjectToken | undefined {
  const token = state as Partial<ObjectToken> | null;
  if (typeof token !== 'object' || token === null || typeof token.oid !== 'string' || typeof token.typeid !== 'string') return undefined;
  const exposed = Array.isArray(token.exposed) ? token.exposed.filter((name): name is string => typeof name === 'string') : [];
  const checked: ObjectToken = { oid: token.oid, typeid: token.typeid, exposed };
  const address = token.address;
  if (Array.isArray(address) && typeof address[0] === 'string' && typeof address[1] === 'number') checked.address = [address[0], address[1]];
  return checked;
}

/**
 * `value` as v8 bytes: as it is when structured clone takes it, else through the runtime's codec (runtime objects
 * reduced; what cannot cross is a PicklingError naming its path). Throws before anything is sent.
 */
export function encodeValue(value: unknown, path: string): Buffer {
  if (!(typeof value === 'object' && value !== null && holdsReducible(value))) {
    try {
      return serialize(value);
    } catch {
      // A function, a symbol or a host object: the codec below names it (or sends it, as a Queue would).
    }
  }
  let encoded: unknown;
  try {
    encoded = encode(value, CONTEXT, path);
  } catch (error) {
    throw error instanceof PicklingError ? error : new PicklingError(`${path} cannot be sent to the manager: ${(error as Error).message}`);
  }
  try {
    return serialize(encoded);
  } catch (error) {
    throw new PicklingError(`${path} cannot be sent to the manager: ${(error as Error).message}`);
  }
}

/** Raw v8 data of a message: what the server keeps (it never revives runtime objects or functions). */
export function decodeData(bytes: Buffer): unknown {
  return deserialize(bytes);
}

/** Who rebuilds manager references during decodeValue(): a client makes proxies, a server finds its objects. */
export interface ReferenceReviver {
  revive(token: ObjectToken): unknown;
}

/** `bytes` as live values: runtime objects revived, references to the manager rebuilt by `side`. */
export function decodeValue(bytes: Buffer, side: ReferenceReviver): unknown {
  const raw = deserialize(bytes);
  if (typeof raw !== 'object' || raw === null) return raw;
  return decodeWith(raw, side);
}

/** Revives data already deserialised (a server's raw args, for a user's own typeid). */
export function decodeWith(raw: unknown, side: ReferenceReviver): unknown {
  // `side` goes to this decode() alone, as its own reviver of references, never through a module-global slot.
  return decode(raw, new Map([[MANAGER_REF, (state: unknown) => side.revive(tokenOf(state))]]));
}

let prepareImports: (() => void) | undefined;

/** Runs `prepare` once before the first import decodeWithAsync() may make (the manager process readies the program's loader). */
export function beforeImports(prepare: () => void): void {
  prepareImports = prepare;
}

/**
 * decodeWith() after importing the modules that functions and error classes in `raw` come from, as decodeAsync():
 * a server calling a user's typeid (a Pool's map(fn, …)) gets `fn` itself. Only after the peer proved the authkey.
 */
export async function decodeWithAsync(raw: unknown, side: ReferenceReviver): Promise<unknown> {
  if (prepareImports) {
    const prepare = prepareImports;
    prepareImports = undefined;
    prepare();
  }
  await importRefs(raw);
  return decodeWith(raw, side);
}

/** The token of a reduced reference's state; a TypeError when it is malformed. */
function tokenOf(state: unknown): ObjectToken {
  const token = checkToken(state);
  if (!token) throw new TypeError('a malformed manager reference');
  return token;
}

// Off a manager's wire (decodeWith() revives its references itself), a reference has nobody to rebuild it.
registerReviver(MANAGER_REF, (state) => {
  const token = tokenOf(state);
  throw new TypeError(`a reference to ${token.typeid} object ${token.oid} can only be read from its manager`);
});
