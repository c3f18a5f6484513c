// Stands between js-debug and one process's inspector and hides the threads that are not the program's: Node's own
// (Node 20's module hooks thread, `node:internal/modules/esm/worker`) and the runtime's helper threads. js-debug lists
// every worker the NodeWorker domain reports as a Call Stack row; such a row never pauses with the program.
// A hidden worker waiting for its debugger is run and detached here. And a pause asked of a process whose event loop
// is idle (a main process awaiting its pool) lands: V8 pauses only when JavaScript runs, so the proxy runs a no-op.
// Node's modules only, loopback only.
import * as http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { maskedTextFrame, upgrade } from './cdpConnection';

/** The worker_threads name of the runtime's debugger watchdog (runtime/src/inspector.ts). */
const RUNTIME_THREAD_TITLE = /^\[worker \d+\] forkscope debugger watchdog$/;

interface WorkerInfo {
  url?: string;
  title?: string;
}

/** How long a pause may wait for JavaScript to run by itself before the proxy runs some. */
export const IDLE_PAUSE_MS = 300;
/** How long the inspector may take to answer the requests that quiet it before the proxy closes its connection anyway. */
const LEAVE_TIMEOUT_MS = 2_000;
/** What runs to let a pause land in an idle process; the frame it stops in is named for what happened. */
const IDLE_PAUSE_EXPRESSION = 'void 0; // paused while the program ran no JavaScript (all-stop, or Pause)\n//# sourceURL=forkscope-idle-pause.js';

/** Whether js-debug should not see this worker: a thread of Node's own or of the runtime, not of the program. */
export function isHiddenWorker(info: WorkerInfo): boolean {
  return (info.url ?? '').startsWith('node:internal/') || RUNTIME_THREAD_TITLE.test(info.title ?? '');
}

/** A `Debugger.pause` request to the process's main thread (a worker's go inside NodeWorker.sendMessageToWorker). */
const PAUSE_REQUEST = /^\{[^{]*"method"\s*:\s*"Debugger\.pause"/;

/** One WebSocket frame as it arrived: its bytes, and for a whole text frame its text. */
interface Frame {
  raw: Buffer;
  opcode: number;
  text?: string;
}

/** Splits `buffer` into whole frames (RFC 6455 §5.2); returns them and the bytes of an unfinished one. */
export function readFrames(buffer: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let at = 0;
  for (;;) {
    if (buffer.length - at < 2) break;
    const fin = (buffer[at]! & 0x80) !== 0;
    const opcode = buffer[at]! & 0x0f;
    const masked = (buffer[at + 1]! & 0x80) !== 0;
    let length = buffer[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      if (buffer.length - at < 4) break;
      length = buffer.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (buffer.length - at < 10) break;
      length = Number(buffer.readBigUInt64BE(at + 2));
      header = 10;
    }
    const maskAt = at + header;
    if (masked) header += 4;
    const end = at + header + length;
    if (buffer.length < end) break;
    const frame: Frame = { raw: buffer.subarray(at, end), opcode };
    if (fin && opcode === 0x1) {
      const payload = Buffer.from(buffer.subarray(at + header, end));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ buffer[maskAt + (i % 4)]!;
      frame.text = payload.toString('utf8');
    }
    frames.push(frame);
    at = end;
  }
  return { frames, rest: buffer.subarray(at) };
}

/**
 * Decides, message by message from the inspector, what js-debug sees: NodeWorker events of hidden workers are
 * dropped, and the answers to the proxy's own requests too. Pure, so a test can drive it.
 */
export class WorkerFilter {
  readonly #hidden = new Set<string>();
  readonly #ownIds = new Set<number>();
  #nextId = 2_000_000_000;
  #paused = false;
  #leaveIds: number[] | undefined;

  /** js-debug asked for a pause (main thread). */
  pauseRequested(): void {
    this.#paused = false;
  }

  /** After IDLE_PAUSE_MS: the request that makes JavaScript run, when the pause has not landed by itself. */
  idlePause(): string | undefined {
    return this.#paused ? undefined : this.#request('Runtime.evaluate', { expression: IDLE_PAUSE_EXPRESSION, silent: true });
  }

  /** What to send the inspector for this message from it, and whether js-debug gets the message. */
  fromInspector(text: string): { forward: boolean; requests: string[] } {
    let message: { id?: number; method?: string; params?: { sessionId?: string; workerInfo?: WorkerInfo; waitingForDebugger?: boolean } };
    try {
      message = JSON.parse(text);
    } catch {
      return { forward: true, requests: [] };
    }
    if (message.id !== undefined) return { forward: !this.#ownIds.delete(message.id), requests: [] };
    if (message.method === 'Debugger.paused') this.#paused = true;
    const sessionId = message.params?.sessionId;
    if (message.method === 'NodeWorker.attachedToWorker' && sessionId && message.params?.workerInfo && isHiddenWorker(message.params.workerInfo)) {
      this.#hidden.add(sessionId);
      const requests: string[] = [];
      // js-debug asked every new worker to wait for it; nobody else will run this one.
      if (message.params.waitingForDebugger) {
        requests.push(
          this.#request('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.runIfWaitingForDebugger' }) }),
        );
      }
      requests.push(this.#request('NodeWorker.detach', { sessionId }));
      return { forward: false, requests };
    }
    // Kept after the detach: the worker's answer to the run request may come after it. Session ids are not reused.
    if (message.method?.startsWith('NodeWorker.') && sessionId && this.#hidden.has(sessionId)) return { forward: false, requests: [] };
    return { forward: true, requests: [] };
  }

  /**
   * What to send the inspector once js-debug has gone, before the proxy closes the inspector connection: every domain
   * js-debug may have turned on, off. A connection that closes while its domains are on gets the next events (a
   * script parsed, a console call) written through a freed socket by Node's inspector, which dies of SIGSEGV
   * (https://github.com/nodejs/node/pull/64209; a program reloaded scripts while a debugger detached 40 times died in
   * 2 runs of 2 here). An answer comes after every event queued before it, so once all are answered nothing more is
   * on its way. A domain the inspector does not know still gets an (error) answer.
   */
  leave(): string[] {
    const requests = [
      this.#request('Debugger.disable', {}),
      this.#request('Runtime.disable', {}),
      this.#request('NodeWorker.disable', {}),
      this.#request('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: false }),
    ];
    this.#leaveIds = requests.map((r) => (JSON.parse(r) as { id: number }).id);
    return requests;
  }

  /** Whether every request of `leave()` has its answer. */
  get left(): boolean {
    return this.#leaveIds?.every((id) => !this.#ownIds.has(id)) ?? false;
  }

  #request(method: string, params: object): string {
    const id = this.#nextId++;
    this.#ownIds.add(id);
    return JSON.stringify({ id, method, params });
  }
}

/** A loopback WebSocket endpoint for js-debug in front of `inspectorUrl`; it serves one debugger connection. */
export class InspectorProxy {
  readonly url: string;
  readonly port: number;
  readonly #server: http.Server;
  /** js-debug's connections (one at most). */
  readonly #clients = new Set<Socket>();

  private constructor(server: http.Server, path: string) {
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
    this.url = `ws://127.0.0.1:${this.port}${path}`;
  }

  static async open(inspectorUrl: string, timeoutMs = 5_000): Promise<InspectorProxy> {
    const target = new URL(inspectorUrl);
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.unref();
    const proxy = new InspectorProxy(server, target.pathname);
    server.on('upgrade', (req: http.IncomingMessage, client: Socket, head: Buffer) => void proxy.#connect(target, req, client, head, timeoutMs));
    return proxy;
  }

  async #connect(target: URL, req: http.IncomingMessage, client: Socket, head: Buffer, timeoutMs: number): Promise<void> {
    this.#clients.add(client);
    client.on('close', () => this.#clients.delete(client));
    client.on('error', () => client.destroy());
    let inspector: Socket;
    try {
      inspector = await upgrade(target, timeoutMs);
    } catch {
      client.destroy();
      return;
    }
    // A debugger that left while the connection was being made turned nothing on: nothing to quiet.
    if (client.destroyed) return void inspector.destroy();
    inspector.on('close', () => client.destroy());
    inspector.on('error', () => inspector.destroy());
    // An upgraded server socket is half-open on the client's end(): without this the inspector keeps a debugger
    // connected, and Node keeps a finished process alive while one is.
    client.on('end', () => client.destroy());
    inspector.on('end', () => inspector.destroy());
    const filter = new WorkerFilter();
    client.on('close', () => {
      // One debugger per proxy: once it has gone, nobody else may come in.
      this.#server.close();
      if (inspector.destroyed) return;
      for (const request of filter.leave()) inspector.write(maskedTextFrame(request));
      // A program that no longer answers (killed, or stopped by the OS) must not keep the socket open.
      setTimeout(() => inspector.destroy(), LEAVE_TIMEOUT_MS).unref();
    });
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    client.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);

    // js-debug to the inspector: whole frames as they are, so the proxy's own requests never split one.
    let fromClient = Buffer.alloc(0);
    const onClient = (chunk: Buffer) => {
      const { frames, rest } = readFrames(Buffer.concat([fromClient, chunk]));
      fromClient = Buffer.from(rest);
      for (const frame of frames) {
        inspector.write(frame.raw);
        if (frame.text === undefined || !PAUSE_REQUEST.test(frame.text)) continue;
        filter.pauseRequested();
        setTimeout(() => {
          const request = filter.idlePause();
          if (request && !inspector.destroyed) inspector.write(maskedTextFrame(request));
        }, IDLE_PAUSE_MS).unref();
      }
    };
    if (head.length > 0) onClient(head);
    client.on('data', onClient);
    let fromInspector = Buffer.alloc(0);
    inspector.on('data', (chunk: Buffer) => {
      const { frames, rest } = readFrames(Buffer.concat([fromInspector, chunk]));
      fromInspector = Buffer.from(rest);
      for (const frame of frames) {
        if (frame.text === undefined) {
          if (!client.destroyed) client.write(frame.raw);
          continue;
        }
        const { forward, requests } = filter.fromInspector(frame.text);
        if (forward && !client.destroyed) client.write(frame.raw);
        for (const request of requests) inspector.write(maskedTextFrame(request));
        if (filter.left) return void inspector.destroy();
      }
    });
  }

  /** Ends the debugger's side; the inspector's side ends once the program has quieted (see `WorkerFilter.leave`). */
  close(): void {
    this.#server.close();
    for (const socket of this.#clients) socket.destroy();
  }
}
