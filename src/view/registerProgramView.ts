// The Forkscope view: a webview view in the activity bar container, also openable in the editor area.
import * as vscode from 'vscode';
import { Commands, Views } from '../contributions';
import { webviewHtml } from './webviewHtml';
import type { WebviewToHost } from './messages';
import { isWebviewToHost } from './messages';

function configure(webview: vscode.Webview, extensionUri: vscode.Uri): void {
  webview.options = {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
  webview.html = webviewHtml(webview, extensionUri, vscode.Uri.joinPath);
}

function handle(message: unknown): void {
  if (!isWebviewToHost(message)) return; // anything off the allowlist is dropped
  const m: WebviewToHost = message;
  switch (m.type) {
    case 'launchActiveFile':
      void vscode.commands.executeCommand(Commands.launchActiveFile);
      break;
    case 'ready':
      break;
  }
}

export function registerProgramView(context: vscode.ExtensionContext): void {
  const { extensionUri } = context;
  context.subscriptions.push(
    vscode.window.registerWebviewViewProvider(Views.program, {
      resolveWebviewView(view) {
        configure(view.webview, extensionUri);
        context.subscriptions.push(view.webview.onDidReceiveMessage(handle));
      },
    }),
    vscode.commands.registerCommand(Commands.openInEditor, () => {
      const panel = vscode.window.createWebviewPanel(Views.program, 'Forkscope', vscode.ViewColumn.Active, { retainContextWhenHidden: false });
      configure(panel.webview, extensionUri);
      panel.webview.onDidReceiveMessage(handle, undefined, context.subscriptions);
    }),
  );
}
