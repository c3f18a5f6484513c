// The Forkscope view's host side: the webview view (and its editor-area twin) fed by ProgramSessions at a
// capped rate, every message from the webview checked, and the deadlock notice and trace export commands.
import * as vscode from 'vscode';
import { Commands, Settings, Views } from '../contributions';
import type { SourceLocation } from '../../runtime/src/protocol';
import { isWebviewToHost } from './messages';
import { ProcessControls } from './processControls';
import { ProgramSessions } from './programSessions';
import { OpenConnections } from './openConnections';
import { findReportedSite } from './reportedSites';
import { debugRemoteWorker } from './remoteWorkerDebug';
import { registerProcessTreeView } from './processTreeView';
import { ViewUpdater } from './viewUpdater';
import { webviewHtml } from './webviewHtml';

const PERFETTO = 'https://ui.perfetto.dev';

function configure(webview: vscode.Webview, extensionUri: vscode.Uri): void {
  webview.options = {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
  webview.html = webviewHtml(webview, extensionUri, vscode.Uri.joinPath);
}

async function openSite(site: SourceLocation): Promise<void> {
  const position = new vscode.Position(Math.max(0, site.line - 1), Math.max(0, site.column - 1));
  await vscode.window.showTextDocument(vscode.Uri.file(site.file), { selection: new vscode.Range(position, position), preview: true });
}

function where(site: SourceLocation | undefined): string {
  return site ? `${site.file.split(/[\\/]/).pop()}:${site.line}` : 'an unknown location';
}

/** Connects one webview (the view or a panel) to the followed program, until the returned disposable is disposed. */
function connect(
  webview: vscode.Webview,
  sessions: ProgramSessions,
  controls: ProcessControls,
  visibility: { isVisible(): boolean; onDidChange: vscode.Event<unknown> },
): vscode.Disposable {
  const updater = new ViewUpdater({
    content: () => sessions.content(),
    post: (message) => void webview.postMessage(message),
    maxUpdatesPerSecond: () => vscode.workspace.getConfiguration().get<number>(Settings.maxUpdatesPerSecond, 10),
  });
  const run = (promise: Thenable<unknown>) =>
    promise.then(undefined, (error: unknown) => void vscode.window.showErrorMessage(`Forkscope: ${error instanceof Error ? error.message : String(error)}`));
  const disposables: vscode.Disposable[] = [
    sessions.onDidChange(() => updater.notify()),
    visibility.onDidChange(() => updater.setVisible(visibility.isVisible())),
    webview.onDidReceiveMessage((message: unknown) => {
      if (!isWebviewToHost(message)) return; // anything off the allowlist or its schema is dropped
      const { snapshot } = sessions.content();
      switch (message.type) {
        case 'ready':
          return updater.resync();
        case 'launchActiveFile':
          return void run(vscode.commands.executeCommand(Commands.launchActiveFile));
        case 'toggleSingleProcess':
          return void run(vscode.commands.executeCommand(Commands.toggleSingleProcess));
        case 'exportTrace':
          return void run(vscode.commands.executeCommand(Commands.exportTrace));
        case 'pauseAll':
          return void run(controls.pauseAll());
        case 'revealProcess':
          if (sessions.hasProcess(message.key)) void run(controls.reveal(message.key));
          return;
        case 'processAction': {
          const node = snapshot?.processes.find((p) => p.key === message.key);
          if (node && node.state !== 'exited' && !node.external) void run(controls.act(message.key, message.action, node.threadId ? undefined : node.pid));
          return;
        }
        case 'debugRemoteWorker': {
          // Only a worker the program reported, and alive.
          const cluster = snapshot?.clusters?.find((c) => c.id === message.cluster);
          if (cluster?.workers.some((w) => w.name === message.worker && w.alive))
            void run(debugRemoteWorker(cluster, message.worker, sessions.followed?.configuration.env));
          return;
        }
        case 'openSource': {
          const site = findReportedSite(snapshot, message);
          if (site) void run(openSite(site));
          return;
        }
      }
    }),
  ];
  updater.setVisible(visibility.isVisible());
  return vscode.Disposable.from(...disposables, { dispose: () => updater.dispose() });
}

async function exportTrace(sessions: ProgramSessions): Promise<void> {
  const session = sessions.followed;
  if (!session) {
    void vscode.window.showInformationMessage(
      `Forkscope: no program is running. From a terminal, \`npx forkscope run app.ts --trace trace.json\` records one; open it at ${PERFETTO}.`,
    );
    return;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, 'forkscope-trace.json') : undefined,
    filters: { 'Chrome trace (JSON)': ['json'] },
    saveLabel: 'Export Trace',
  });
  if (!target) return;
  try {
    await session.customRequest('forkscope/exportTrace', { path: target.fsPath });
  } catch (error) {
    void vscode.window.showErrorMessage(
      `Forkscope: this session could not export its trace (${error instanceof Error ? error.message : String(error)}). From a terminal, \`npx forkscope run app.ts --trace trace.json\` records one.`,
    );
    return;
  }
  const open = 'Open Perfetto';
  const choice = await vscode.window.showInformationMessage(
    `Forkscope: trace written to ${target.fsPath}. To see it, open ${PERFETTO} and drop the file on the page (or use "Open trace file").`,
    open,
  );
  if (choice === open) await vscode.env.openExternal(vscode.Uri.parse(PERFETTO));
}

export function registerProgramView(context: vscode.ExtensionContext): ProgramSessions {
  const { extensionUri } = context;
  const sessions = new ProgramSessions();
  const controls = new ProcessControls(sessions);
  // A closed panel's connection is let go, not kept in context.subscriptions until the extension deactivates.
  const connections = new OpenConnections();
  context.subscriptions.push(
    sessions,
    connections,
    vscode.window.registerWebviewViewProvider(Views.program, {
      resolveWebviewView(view) {
        configure(view.webview, extensionUri);
        connections.hold(
          connect(view.webview, sessions, controls, { isVisible: () => view.visible, onDidChange: view.onDidChangeVisibility }),
          view.onDidDispose,
        );
      },
    }),
    vscode.commands.registerCommand(Commands.openInEditor, () => {
      const panel = vscode.window.createWebviewPanel(Views.program, 'Forkscope', vscode.ViewColumn.Active, { retainContextWhenHidden: false });
      panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'forkscope.svg');
      configure(panel.webview, extensionUri);
      connections.hold(
        connect(panel.webview, sessions, controls, { isVisible: () => panel.visible, onDidChange: panel.onDidChangeViewState }),
        panel.onDidDispose,
      );
    }),
    vscode.commands.registerCommand(Commands.exportTrace, () => exportTrace(sessions)),
    sessions.onDidFindDeadlock(async ({ snapshot }) => {
      const deadlock = snapshot.deadlocks.at(-1);
      if (!deadlock) return;
      const locations = deadlock.cycle.map((step) => where(step.site)).join(' and ');
      const open = 'Open Location';
      const show = 'Show Program View';
      const choice = await vscode.window.showWarningMessage(`Forkscope: deadlock at ${locations}. ${deadlock.message}`, open, show);
      const first = deadlock.cycle.find((step) => step.site)?.site;
      if (choice === open && first) await openSite(first);
      if (choice === show) await vscode.commands.executeCommand(`${Views.program}.focus`);
    }),
    registerProcessTreeView(sessions, controls),
  );
  return sessions;
}
