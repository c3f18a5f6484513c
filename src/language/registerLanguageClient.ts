// Starts Forkscope's language server (dist/server.js) for TypeScript and JavaScript files, and registers the
// commands its code lenses run. The server does the analysis; this side only wires it into VS Code.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { registerLensCommands } from './lensCommands';

const LANGUAGES = ['typescript', 'javascript', 'typescriptreact', 'javascriptreact'];

export function registerLanguageClient(context: vscode.ExtensionContext): void {
  registerLensCommands(context);
  const module = vscode.Uri.joinPath(context.extensionUri, 'dist', 'server.js').fsPath;
  // No debug inspector for the server: a fixed inspector port is what RELIABILITY.md forbids.
  const serverOptions: ServerOptions = { run: { module, transport: TransportKind.ipc }, debug: { module, transport: TransportKind.ipc } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    // No docsUrl: the server links each diagnostic to the page shipped beside it (server/src/docsLinks.ts).
  };
  const client = new LanguageClient('forkscope', 'Forkscope Language Server', serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => void client.stop() });
  client.start().catch((error: unknown) => {
    void vscode.window.showErrorMessage(`Forkscope's language server failed to start: ${error instanceof Error ? error.message : String(error)}`);
  });
}
