// Registers the `forkscope` debug type: configuration provider, the inline adapter (one ForkscopeSession per
// launch, with a hub and a Node launcher), child-session nesting, all-stop, and the debug commands.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands, DEBUG_TYPE } from '../contributions';
import { Hub } from '../../hub/hub';
import { AllStop, ChildSessions, forkscopeRootOf } from './vscodeChildSessions';
import { ForkscopeConfigurationProvider, launchConfigurationFor } from './configurationProvider';
import { ForkscopeSession } from './forkscopeSession';
import { findRuntimePreload, NodeLauncher } from './nodeLauncher';

export function registerDebugging(context: vscode.ExtensionContext): void {
  const provider = new ForkscopeConfigurationProvider();
  const children = new ChildSessions();
  const allStop = new AllStop();
  const launcher = new NodeLauncher({
    createHub: (spec, onSnapshot) =>
      new Hub({
        debug: spec.debug,
        singleProcess: spec.singleProcess,
        onSnapshot,
        snapshotIntervalMs: 250,
        preload: findRuntimePreload([path.dirname(spec.program), spec.cwd, context.extensionPath]),
      }),
    tsxSearchPaths: [context.extensionPath],
  });
  context.subscriptions.push(
    children,
    allStop,
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
      createDebugAdapterDescriptor: (session) =>
        new vscode.DebugAdapterInlineImplementation(
          new ForkscopeSession({
            id: session.id,
            launcher,
            startChildSession: children.starterFor(session),
            // Checked again at launch, in code: a `when` clause or the provider alone can be bypassed.
            isTrusted: () => vscode.workspace.isTrusted,
          }),
        ),
    }),
    vscode.debug.registerDebugAdapterTrackerFactory('pwa-node', allStop),
    vscode.commands.registerCommand(Commands.launchActiveFile, async (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (!target) {
        void vscode.window.showInformationMessage('Forkscope: open a TypeScript or JavaScript program to launch it.');
        return;
      }
      await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(target), launchConfigurationFor(target.fsPath));
    }),
    vscode.commands.registerCommand(Commands.toggleSingleProcess, () => restartToggled(context)),
    vscode.commands.registerCommand(Commands.toggleStopAll, () => {
      const root = forkscopeRootOf(vscode.debug.activeDebugSession);
      if (!root) {
        void vscode.window.showInformationMessage(
          'Forkscope: all-stop applies to a running Forkscope session; set "stopAll": true in its launch configuration.',
        );
        return;
      }
      const isOn = allStop.toggle(root);
      void vscode.window.showInformationMessage(`Forkscope: all-stop is ${isOn ? 'on: when one process stops, every process pauses' : 'off'}.`);
    }),
  );
}

/** Restarts the active program with single-process mode flipped (or launches the active file in it). */
async function restartToggled(_context: vscode.ExtensionContext): Promise<void> {
  const root = forkscopeRootOf(vscode.debug.activeDebugSession);
  if (!root) {
    const file = vscode.window.activeTextEditor?.document.uri;
    if (!file) {
      void vscode.window.showInformationMessage('Forkscope: start a program first, or open one to run it as a single process.');
      return;
    }
    await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(file), { ...launchConfigurationFor(file.fsPath), singleProcess: true });
    return;
  }
  const configuration = { ...root.configuration, singleProcess: root.configuration.singleProcess !== true };
  const ended = new Promise<void>((resolve) => {
    const sub = vscode.debug.onDidTerminateDebugSession((s) => {
      if (s.id === root.id) {
        sub.dispose();
        resolve();
      }
    });
  });
  await vscode.debug.stopDebugging(root);
  await ended;
  await vscode.debug.startDebugging(root.workspaceFolder, configuration);
}
