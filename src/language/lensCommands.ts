// The commands behind the code lenses over `if (isMainProcess())`: each starts a Forkscope session for the
// file: debug every process, run it as a single process, or record a trace (Chrome trace-event JSON).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands, DEBUG_TYPE } from '../contributions';

type Mode = 'debug' | 'single' | 'trace';

/** The launch configuration each lens starts; `trace` names the file the session writes its trace to. */
export function lensConfiguration(program: string, mode: Mode): vscode.DebugConfiguration {
  const name = path.basename(program);
  if (mode === 'single') return { type: DEBUG_TYPE, request: 'launch', name: `Forkscope: ${name} (single process)`, program, singleProcess: true };
  if (mode === 'trace') {
    return { type: DEBUG_TYPE, request: 'launch', name: `Forkscope: trace ${name}`, program, trace: traceFileFor(program), attach: 'none' };
  }
  return { type: DEBUG_TYPE, request: 'launch', name: `Forkscope: ${name}`, program };
}

/** `app.ts` → `app.trace.json` beside it: opens in Perfetto (ui.perfetto.dev) or chrome://tracing. */
export function traceFileFor(program: string): string {
  return path.join(path.dirname(program), `${path.basename(program).replace(/\.[^.]+$/, '')}.trace.json`);
}

export function registerLensCommands(context: vscode.ExtensionContext): void {
  const start = async (mode: Mode, arg?: string | vscode.Uri): Promise<void> => {
    const uri = typeof arg === 'string' ? vscode.Uri.parse(arg) : (arg ?? vscode.window.activeTextEditor?.document.uri);
    if (!uri || uri.scheme !== 'file') {
      void vscode.window.showInformationMessage('Forkscope: save the program to a file to run it.');
      return;
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage('Forkscope does not launch programs in an untrusted workspace. Trust the workspace first.');
      return;
    }
    const config = lensConfiguration(uri.fsPath, mode);
    const started = await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(uri), config);
    if (started && mode === 'trace') offerTraceWhenDone(context, config.name, config.trace as string);
  };
  context.subscriptions.push(
    vscode.commands.registerCommand(Commands.debugAllProcesses, (arg?: string | vscode.Uri) => start('debug', arg)),
    vscode.commands.registerCommand(Commands.runSingleProcess, (arg?: string | vscode.Uri) => start('single', arg)),
    vscode.commands.registerCommand(Commands.traceProgram, (arg?: string | vscode.Uri) => start('trace', arg)),
  );
}

function offerTraceWhenDone(context: vscode.ExtensionContext, sessionName: string, traceFile: string): void {
  const listener = vscode.debug.onDidTerminateDebugSession(async (session) => {
    if (session.name !== sessionName || session.parentSession) return;
    listener.dispose();
    const uri = vscode.Uri.file(traceFile);
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      return;
    }
    const choice = await vscode.window.showInformationMessage(`Forkscope wrote a trace to ${path.basename(traceFile)}: open it in Perfetto (ui.perfetto.dev).`, 'Reveal File');
    if (choice === 'Reveal File') await vscode.commands.executeCommand('revealFileInOS', uri);
  });
  context.subscriptions.push(listener);
}
