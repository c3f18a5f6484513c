// Offers "Forkscope: Launch Program" for the active file and fills in what a bare F5 leaves out.
import * as vscode from 'vscode';
import { DEBUG_TYPE, Settings } from '../contributions';

const PROGRAM_LANGUAGES = new Set(['typescript', 'javascript', 'typescriptreact', 'javascriptreact']);

export function launchConfigurationFor(program: string): vscode.DebugConfiguration {
  return { type: DEBUG_TYPE, request: 'launch', name: 'Forkscope: Launch Program', program };
}

export class ForkscopeConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [{ ...launchConfigurationFor('${file}') }];
  }

  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage('Forkscope does not launch programs in an untrusted workspace. Trust the workspace first.');
      return undefined;
    }
    if (!config.type && !config.request && !config.name) {
      const editor = vscode.window.activeTextEditor;
      if (!editor || !PROGRAM_LANGUAGES.has(editor.document.languageId)) return config;
      config = launchConfigurationFor(editor.document.uri.fsPath);
    }
    if (config.request === 'launch' && !config.runtimeExecutable) {
      const configured = vscode.workspace.getConfiguration().get<string>(Settings.runtimeExecutable);
      if (configured) config.runtimeExecutable = configured;
    }
    return config;
  }
}
