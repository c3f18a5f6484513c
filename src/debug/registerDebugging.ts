// Registers the `forkscope` debug type: configuration provider and the launch-active-file command.
import * as vscode from 'vscode';
import { Commands, DEBUG_TYPE } from '../contributions';
import { ForkscopeConfigurationProvider, launchConfigurationFor } from './configurationProvider';

export function registerDebugging(context: vscode.ExtensionContext): void {
  const provider = new ForkscopeConfigurationProvider();
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.commands.registerCommand(Commands.launchActiveFile, async (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (!target) {
        void vscode.window.showInformationMessage('Forkscope: open a TypeScript or JavaScript program to launch it.');
        return;
      }
      await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(target), launchConfigurationFor(target.fsPath));
    }),
  );
}
