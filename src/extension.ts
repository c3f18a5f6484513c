// Wires the extension's parts; no logic beyond that. Every disposable goes to context.subscriptions.
import * as vscode from 'vscode';
import { registerDebugging } from './debug/registerDebugging';
import { registerLanguageClient } from './language/registerLanguageClient';
import { registerProgramView } from './view/registerProgramView';

export function activate(context: vscode.ExtensionContext): void {
  try {
    registerDebugging(context);
    registerProgramView(context);
    registerLanguageClient(context);
  } catch (error) {
    void vscode.window.showErrorMessage(`Forkscope failed to start: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

export function deactivate(): void {}
