// A process's connection to one manager, shared by all its proxies: authenticates (wire.ts), numbers each
// request, settles it with its reply, and rejects every pending call with EOFError when the manager goes.
// An idle connection never keeps the program alive; a pending call does. Node's modules only.
import { connect as netConnect, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { deserialize } from 'node:v8';
import { EOFError, errnoError } from '../errors';
import { decodeThrown } from '../serialize';
import { clientHandshake, dataFrameReader, writeDataFrame, REPLY_ERROR, REPLY_PROXY, REQUEST } from './wire';
import { checkToken, decodeValue, type ObjectToken, type ReferenceReviver } from './codec';
import { reported, type CallReport } from './report';

/** Where a manager listens: `[host, port]`. Python: the address tuple */
export type Address = [host: string, port: number];

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  what: string;
}

/** Makes the proxy for a token this client received (managers/proxies.ts decides its class). */
export type ProxyMaker = (client: Client, token: ObjectToken) => unknown;

let makeProxy: ProxyMaker | undefined;

/** Set once by the proxies module: keeps this file free of the proxy classes. */
export function setProxyMaker(maker: ProxyMaker): void {
  makeProxy = maker;
}

/** One authenticated connection per manager per process, shared by all its proxies. */
export class Client implements ReferenceReviver {
  static readonly #clients = new Map<string, Client>();
  readonly address: Address;
  readonly authkey: Buffer;
  /** Proxy classes by typeid, from the manager classes that use this connection (register()'s proxytype). */
  readonly proxyTypes = new Map<string, unknown>();
  #socket: Socket | undefined;
  #connecting: Promise<Socket> | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  private constructor(address: Address, authkey: Buffer) {
    this.address = address;
    this.authkey = authkey;
  }

  static for(address: Address, authkey: Buffer): Client {
    const key = `${address[0]}:${address[1]}:${createHash('sha256').update(authkey).digest('hex')}`;
    let client = Client.#clients.get(key);
    if (!client) Client.#clients.set(key, (client = new Client(address, authkey)));
    return client;
  }

  #connect(): Promise<Socket> {
    if (this.#socket && !this.#socket.destroyed) return Promise.resolve(this.#socket);
    this.#connecting ??= new Promise<Socket>((resolve, reject) => {
      const [host, port] = this.address;
      const socket = netConnect({ host, port });
      socket.setNoDelay(true);
      const fail = (error: Error): void => {
        socket.destroy();
        this.#connecting = undefined;
        const code = (error as NodeJS.ErrnoException).code;
        const gone =
          code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE'
            ? errnoError(
                error,
                code === 'ECONNREFUSED' ? `no manager is listening at ${host}:${port}` : `the manager at ${host}:${port} dropped the connection`,
              )
            : undefined;
        reject(gone ?? error);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        clientHandshake(socket, this.authkey).then(() => {
          socket.off('error', fail);
          this.#attach(socket);
          this.#connecting = undefined;
          resolve(socket);
        }, fail);
      });
    });
    return this.#connecting;
  }

  #attach(socket: Socket): void {
    this.#socket = socket;
    const reader = dataFrameReader(
      (id, kind, body) => {
        const pending = this.#pending.get(id);
        if (!pending) return;
        this.#pending.delete(id);
        if (this.#pending.size === 0) socket.unref();
        try {
          if (kind === REPLY_ERROR) pending.reject(decodeThrown(deserialize(body)));
          else if (kind === REPLY_PROXY) pending.resolve(this.revive(checkToken(deserialize(body))!));
          else pending.resolve(decodeValue(body, this));
        } catch (error) {
          pending.reject(error);
        }
      },
      () => socket.destroy(),
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      const [host, port] = this.address;
      for (const [id, pending] of this.#pending) {
        this.#pending.delete(id);
        pending.reject(new EOFError(`the manager at ${host}:${port} went away during ${pending.what}`));
      }
    });
    socket.unref();
  }

  /** A proxy for an object named in a reply: of this manager, or of another one this process is connected to. */
  revive(token: ObjectToken): unknown {
    if (!makeProxy) throw new TypeError('forkscope cannot make manager proxies: managers.ts was not loaded');
    const address = token.address;
    if (!address || (address[0] === this.address[0] && address[1] === this.address[1])) return makeProxy(this, token);
    // The key is never on a wire: a proxy of another manager works where this process already holds its key.
    for (const client of Client.#clients.values()) if (client.address[0] === address[0] && client.address[1] === address[1]) return makeProxy(client, token);
    throw new TypeError(`a proxy of the manager at ${address.join(':')} cannot be rebuilt here: this process has no connection to that manager`);
  }

  /**
   * Sends a request already encoded (encodeValue: it threw before anything was referenced) and awaits its reply;
   * `report` (report.ts' beginCall) tells the hub about the call when it settles.
   */
  send(body: Buffer, what: string, report?: CallReport): Promise<unknown> {
    return reported(report, this.#send(body, what));
  }

  async #send(body: Buffer, what: string): Promise<unknown> {
    const socket = await this.#connect();
    const id = this.#nextId++;
    if (this.#nextId > 0xffff_ffff) this.#nextId = 1;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, what });
      // A pending call keeps the program alive; an idle connection does not.
      socket.ref();
      writeDataFrame(socket, id, REQUEST, body);
    });
  }

  close(): void {
    this.#socket?.destroy();
  }
}
