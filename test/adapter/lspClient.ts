// A minimal LSP client for tests: starts the built server (dist/server.js) on stdio and speaks the real
// protocol through vscode-languageserver-protocol. Every test owns one and disposes it (the server exits).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type CodeAction,
  type CodeLens,
  type Diagnostic,
  type Hover,
  type InitializeResult,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type TextEdit,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';

export const SERVER = join(__dirname, '..', '..', 'dist', 'server.js');

export class LspClient {
  readonly #child: ChildProcess;
  readonly #connection: ProtocolConnection;
  readonly #documents = new Map<string, TextDocument>();
  readonly #published = new Map<string, PublishDiagnosticsParams>();
  readonly #waiters = new Set<() => void>();
  stderr = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.#connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
      this.#published.set(params.uri, params);
      for (const wake of this.#waiters) wake();
    });
    this.#connection.listen();
  }

  static async start(initializationOptions: unknown = {}): Promise<{ client: LspClient; init: InitializeResult }> {
    if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run \`npm run build\` first`);
    const child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const client = new LspClient(child);
    const init = await client.#connection.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: { textDocument: { publishDiagnostics: { versionSupport: true } } },
      initializationOptions,
    });
    await client.#connection.sendNotification('initialized', {});
    return { client, init };
  }

  /** Opens a document and resolves with the diagnostics published for this version. */
  async open(uri: string, text: string, languageId = 'typescript'): Promise<Diagnostic[]> {
    const doc = TextDocument.create(uri, languageId, 1, text);
    this.#documents.set(uri, doc);
    await this.#connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    return this.diagnosticsFor(uri, 1);
  }

  /** Applies edits to an open document, sends them as incremental changes, resolves with the new diagnostics. */
  async edit(uri: string, edits: TextEdit[]): Promise<Diagnostic[]> {
    const doc = this.#documents.get(uri)!;
    const version = doc.version + 1;
    // Sent last edit first, so each range is still valid in the text the server holds when it applies it.
    const sorted = [...edits].sort((a, b) => doc.offsetAt(b.range.start) - doc.offsetAt(a.range.start));
    const next = TextDocument.update(
      doc,
      sorted.map((e) => ({ range: e.range, text: e.newText })),
      version,
    );
    this.#documents.set(uri, next);
    await this.#connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: sorted.map((e) => ({ range: e.range, text: e.newText })),
    });
    return this.diagnosticsFor(uri, version);
  }

  text(uri: string): string {
    return this.#documents.get(uri)!.getText();
  }

  async close(uri: string): Promise<void> {
    this.#documents.delete(uri);
    await this.#connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  codeActions(uri: string, diagnostics: Diagnostic[]): Promise<CodeAction[]> {
    const range = diagnostics[0]?.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    return this.#connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics } });
  }

  codeLenses(uri: string): Promise<CodeLens[]> {
    return this.#connection.sendRequest('textDocument/codeLens', { textDocument: { uri } });
  }

  hover(uri: string, line: number, character: number): Promise<Hover | null> {
    return this.#connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character } });
  }

  async diagnosticsFor(uri: string, version: number): Promise<Diagnostic[]> {
    for (;;) {
      const got = this.#published.get(uri);
      if (got && got.version === version) return got.diagnostics;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
        setTimeout(wake, 200).unref();
      });
      if (this.#child.exitCode !== null) throw new Error(`the server exited (${this.#child.exitCode}): ${this.stderr}`);
    }
  }

  /** Asks the server to shut down and exit; kills it if it does not within two seconds. */
  async dispose(): Promise<void> {
    const exited = new Promise<void>((resolve) => (this.#child.exitCode !== null ? resolve() : this.#child.once('exit', () => resolve())));
    try {
      await Promise.race([this.#connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000).unref())]);
      await this.#connection.sendNotification('exit');
    } catch {
      // The connection may already be gone; the kill below still ends the process.
    }
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
    this.#connection.dispose();
  }
}
