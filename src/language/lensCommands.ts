// The commands behind the code lenses over `if (isMainProcess())`: debug every process, run the program
// as a single process (both Forkscope debug sessions), or record a trace with `forkscope run --trace`.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../contributions';
import { lensConfiguration, traceRun, type LensMode } from './lensLaunch';

const PERFETTO = 'https://ui.perfetto.dev';

export function registerLensCommands(context: vscode.ExtensionContext): void {
  const programOf = (arg?: string | vscode.Uri): vscode.Uri | undefined => {
    const uri = typeof arg === 'string' ? vscode.Uri.parse(arg) : (arg ?? vscode.window.activeTextEditor?.document.uri);
    if (uri?.scheme !== 'file') {
      void vscode.window.showInformationMessage('Forkscope: save the program to a file to run it.');
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage('Forkscope does not run programs in an untrusted workspace. Trust the workspace first.');
      return undefined;
    }
    return uri;
  };
  const debug = async (mode: LensMode, arg?: string | vscode.Uri): Promise<void> => {
    const uri = programOf(arg);
    if (uri) await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(uri), { ...lensConfiguration(uri.fsPath, mode) });
  };
  context.subscriptions.push(
    vscode.commands.registerCommand(Commands.debugAllProcesses, (arg?: string | vscode.Uri) => debug('debug', arg)),
    vscode.commands.registerCommand(Commands.runSingleProcess, (arg?: string | vscode.Uri) => debug('single', arg)),
    vscode.commands.registerCommand(Commands.traceProgram, async (arg?: string | vscode.Uri) => {
      const uri = programOf(arg);
      if (uri) await trace(context, uri);
    }),
  );
}

async function trace(context: vscode.ExtensionContext, uri: vscode.Uri): Promise<void> {
  const run = traceRun(uri.fsPath);
  const strong = (value: string): vscode.ShellQuotedString => ({ value, quoting: vscode.ShellQuoting.Strong });
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  const task = new vscode.Task(
    { type: 'forkscope-trace', program: uri.fsPath },
    folder ?? vscode.TaskScope.Workspace,
    `trace ${path.basename(uri.fsPath)}`,
    'Forkscope',
    new vscode.ShellExecution(run.command, run.args.map(strong), { cwd: run.cwd }),
  );
  const execution = await vscode.tasks.executeTask(task);
  const ended = vscode.tasks.onDidEndTaskProcess(async (e) => {
    if (e.execution !== execution) return;
    ended.dispose();
    try {
      await vscode.workspace.fs.stat(vscode.Uri.file(run.traceFile));
    } catch {
      return; // The program or the CLI failed; the terminal shows why.
    }
    const open = 'Open Perfetto';
    const choice = await vscode.window.showInformationMessage(
      `Forkscope: trace written to ${run.traceFile}. Open ${PERFETTO} and drop the file on the page.`,
      open,
    );
    if (choice === open) await vscode.env.openExternal(vscode.Uri.parse(PERFETTO));
  });
  context.subscriptions.push(ended);
}
