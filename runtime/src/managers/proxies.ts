// The client side of a manager's objects: BaseProxy (Python's), the AutoProxy made from an object's exposed
// methods, and SyncManager's own proxy types (Value's `value`, Barrier's attributes, Condition's waitFor,
// Namespace's attributes). Every call is a request over the process's Client and returns a Promise.
// Node's modules and the runtime's codec only.
import { inspect } from 'node:util';
import { serialize } from 'node:v8';
import { reduceSymbol, registerReviver, type ReducedObject, type TransferContext } from '../reduction';
import { readTimeout } from '../timeouts';
import { Client, setProxyMaker, type Address } from './client';
import { checkToken, encodeValue, isManagerWire, managerRef, type ObjectToken } from './codec';
import { beginCall, type CallReport } from './report';

/** What names an object in a manager. Python: multiprocessing.managers.Token */
export interface Token {
  typeid: string;
  address: Address;
  id: string;
}

/** Only the runtime makes proxies: a user's proxytype is constructed with this. */
class ProxyHandle {
  constructor(
    readonly client: Client,
    readonly token: ObjectToken,
  ) {}
}

function warnLost(error: unknown): void {
  process.emitWarning(`forkscope: a manager call made without await failed: ${(error as Error).message}`);
}

/**
 * A reference to an object in a manager; subclass it for `register(typeid, callable, { proxytype })` and call
 * `this._callMethod(name, args)` in its methods. Python: multiprocessing.managers.BaseProxy
 */
export class BaseProxy {
  /** The methods proxies of this class may call (read by register() when `exposed` is not given). Python: `_exposed_` */
  static _exposed_?: readonly string[];
  /** Methods whose results are proxies of another typeid (read by register()). Python: `_method_to_typeid_` */
  static _methodToTypeid_?: Readonly<Record<string, string>>;
  readonly #client: Client;
  readonly #token: ObjectToken;

  constructor(handle: unknown) {
    if (!(handle instanceof ProxyHandle)) throw new TypeError('a proxy is made by its manager (create() or a registered method), not with new');
    this.#client = handle.client;
    this.#token = handle.token;
  }

  /** The typeid, the manager's address and the object's id. Python: BaseProxy._token */
  get _token(): Token {
    return { typeid: this.#token.typeid, address: [...this.#client.address], id: this.#token.oid };
  }

  /** The methods this proxy may call. Python: AutoProxy._exposed_ */
  get _exposed_(): readonly string[] {
    return [...this.#token.exposed];
  }

  /** Calls `name` on the object in the manager; a value that cannot cross rejects with PicklingError before anything is sent. Python: BaseProxy._callmethod */
  _callMethod(name: string, args: readonly unknown[] = []): Promise<any> {
    try {
      const report = beginCall(this.#client.address, this.#token.typeid, name);
      return this.#client.send(this.#request('call', name, args, report), `${this.#token.typeid}.${name}()`, report);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A copy of the object in the manager. Python: BaseProxy._getvalue */
  _getValue(): Promise<any> {
    const report = beginCall(this.#client.address, this.#token.typeid, 'getvalue');
    return this.#client.send(
      serialize({ op: 'getvalue', oid: this.#token.oid, ...(report?.id ? { trace: report.id } : {}) }),
      `${this.#token.typeid} _getValue()`,
      report,
    );
  }

  /** Sends without waiting (attribute assignment); throws at once if the value cannot cross. */
  protected _fire(name: string, args: readonly unknown[]): void {
    const report = beginCall(this.#client.address, this.#token.typeid, name);
    const body = this.#request('call', name, args, report);
    void this.#client.send(body, `${this.#token.typeid}.${name}()`, report).catch(warnLost);
  }

  /** `report`'s id, when the call is detailed for the hub, goes along so the server reports it under the same id. */
  #request(op: string, method: string, args: readonly unknown[], report: CallReport | undefined): Buffer {
    return encodeValue({ op, oid: this.#token.oid, method, args, ...(report?.id ? { trace: report.id } : {}) }, `${this.#token.typeid}.${method}()`);
  }

  [reduceSymbol](context: TransferContext): ReducedObject {
    if (isManagerWire(context)) return managerRef({ ...this.#token, address: this.#client.address });
    // To another process: it connects to the manager itself, proving the key as this one did.
    return { kind: 'forkscope.Proxy', state: { ...this.#token, address: this.#client.address, authkey: this.#client.authkey.toString('hex') } };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  toString(): string {
    // By prototype, not by name: a minified build renames classes.
    const kind = this instanceof AutoProxy && Object.getPrototypeOf(this) === AutoProxy.prototype ? `AutoProxy[${this.#token.typeid}]` : this.constructor.name;
    return `<${kind} object, typeid '${this.#token.typeid}' at ${this.#client.address.join(':')}>`;
  }
}

/** A proxy with one method per exposed name of its object. Python: multiprocessing.managers.AutoProxy */
export class AutoProxy extends BaseProxy {
  constructor(handle: unknown) {
    super(handle);
    for (const name of this._exposed_) {
      // A subclass's own member (an accessor, a local method) wins, as a proxytype's does in Python.
      if (name in this) continue;
      Object.defineProperty(this, name, { value: (...args: unknown[]) => this._callMethod(name, args), enumerable: true, configurable: true });
    }
  }
}

/**
 * A proxy for an iterator or generator in the manager: `for await (const x of proxy)`, each step one call.
 * Give it as `register(typeid, makeGenerator, { proxytype: IteratorProxy })`. Python: multiprocessing.managers.IteratorProxy
 */
export class IteratorProxy extends BaseProxy implements AsyncIterableIterator<any> {
  static override _exposed_: readonly string[] = ['next', 'return', 'throw'];

  /** The next step, `{ value, done }`. Python: IteratorProxy.__next__ / send */
  next(...args: [] | [unknown]): Promise<IteratorResult<any>> {
    return this._callMethod('next', args);
  }

  /** Ends the iterator in the manager. Python: IteratorProxy.close */
  return(value?: unknown): Promise<IteratorResult<any>> {
    return this._callMethod('return', [value]);
  }

  /** Throws `error` into the generator in the manager. Python: IteratorProxy.throw */
  throw(error?: unknown): Promise<IteratorResult<any>> {
    return this._callMethod('throw', [error]);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Python: ValueProxy (get(), set(), and `value`) */
class ManagedValue extends AutoProxy {
  get value(): Promise<unknown> {
    return this._callMethod('get');
  }
  set value(value: unknown) {
    this._fire('set', [value]);
  }
}

/** Python: BarrierProxy (parties, n_waiting, broken as attributes) */
class ManagedBarrier extends AutoProxy {
  get parties(): Promise<number> {
    return this._callMethod('parties');
  }
  get nWaiting(): Promise<number> {
    return this._callMethod('nWaiting');
  }
  get broken(): Promise<boolean> {
    return this._callMethod('broken');
  }
}

/**
 * Python: AcquirerProxy (Lock, RLock, Semaphore, BoundedSemaphore): `await using` releases at the block's end, as
 * Python's `with` does; JavaScript's `using` has no enter step, so `await lock.acquire()` comes first.
 */
class ManagedAcquirer extends AutoProxy {
  async [Symbol.asyncDispose](): Promise<void> {
    await this._callMethod('release');
  }
}

/** Python: ConditionProxy (an AcquirerProxy), whose wait_for() loops on wait() in the caller, where the predicate lives. */
class ManagedCondition extends ManagedAcquirer {
  async waitFor<T>(predicate: () => T | Promise<T>, timeout?: number | { timeout?: number | null }): Promise<T> {
    if (typeof predicate !== 'function') throw new TypeError('Condition.waitFor(predicate, timeout): predicate must be a function');
    const ms = readTimeout(timeout, 'Condition.waitFor', true);
    const deadline = ms === undefined ? undefined : Date.now() + ms;
    let result = await predicate();
    while (!result) {
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) break;
      await this._callMethod('wait', left === undefined ? [] : [{ timeout: left }]);
      result = await predicate();
    }
    return result;
  }
}

/** Python: PoolProxy, whose `with` block terminates the pool (`await using` here). */
class ManagedPool extends AutoProxy {
  async [Symbol.asyncDispose](): Promise<void> {
    await this._callMethod('terminate');
  }
}

/** A Pool's imap iterator in the manager (typeid 'Iterator'): `for await`, or `next({ timeout })`. */
class ManagedIterator extends AutoProxy implements AsyncIterableIterator<any> {
  next(...args: [] | [unknown]): Promise<IteratorResult<any>> {
    return this._callMethod('next', args);
  }

  /** Leaving a `for await` early: the pool finishes the rest, as Python's abandoned imap iterator. */
  async return(value?: unknown): Promise<IteratorResult<any>> {
    return { done: true, value };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Python: NamespaceProxy: attributes live in the manager (`ns.x = 1` sends, `await ns.x` reads, `delete ns.x`). */
class ManagedNamespace extends BaseProxy {}

function namespace(proxy: ManagedNamespace): unknown {
  const local = (key: string | symbol): boolean => typeof key === 'symbol' || key.startsWith('_') || key === 'toString';
  return new Proxy(proxy, {
    get(target, key) {
      if (key === 'then') return undefined;
      if (local(key)) {
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? (value as Function).bind(target) : value;
      }
      return target._callMethod('__getattr__', [key]);
    },
    set(target, key, value) {
      if (local(key)) return Reflect.set(target, key, value, target);
      (target as unknown as { _fire(name: string, args: unknown[]): void })._fire('__setattr__', [key, value]);
      return true;
    },
    deleteProperty(target, key) {
      if (local(key)) return Reflect.deleteProperty(target, key);
      void target._callMethod('__delattr__', [key]).catch(warnLost);
      return true;
    },
  });
}

type ProxyType = new (handle: unknown) => BaseProxy;

/** Proxy classes by typeid, for proxies revived in a process that has no manager object (a child). */
export const proxyTypes = new Map<string, ProxyType>([
  ['Lock', ManagedAcquirer],
  ['RLock', ManagedAcquirer],
  ['Semaphore', ManagedAcquirer],
  ['BoundedSemaphore', ManagedAcquirer],
  ['Value', ManagedValue],
  ['Barrier', ManagedBarrier],
  ['Condition', ManagedCondition],
  ['Namespace', ManagedNamespace],
  ['Pool', ManagedPool],
  ['Iterator', ManagedIterator],
]);

/** The proxy for `token`: the class its manager registered for the typeid, else AutoProxy. */
export function makeProxy(client: Client, token: ObjectToken): unknown {
  const Type = (client.proxyTypes.get(token.typeid) as ProxyType | undefined) ?? proxyTypes.get(token.typeid) ?? AutoProxy;
  const proxy = new Type(new ProxyHandle(client, token));
  return proxy instanceof ManagedNamespace ? namespace(proxy) : proxy;
}

setProxyMaker(makeProxy);

registerReviver('forkscope.Proxy', (state) => {
  const { address, authkey } = state as { address: Address; authkey: string };
  const token = checkToken(state);
  if (!token || !Array.isArray(address) || typeof authkey !== 'string') throw new TypeError('a malformed manager proxy');
  return makeProxy(Client.for(address, Buffer.from(authkey, 'hex')), token);
});
