// The native "Processes" tree beside the Call Stack: the followed program's processes, nested, with their
// state; clicking one reveals its debug session. Refreshed at the view's capped rate, never while hidden.
import * as vscode from 'vscode';
import { Commands, Settings, Views } from '../contributions';
import type { ProcessNode, ProgramSnapshot } from '../../hub/snapshot';
import type { ProcessControls } from './processControls';
import type { ProgramSessions } from './programSessions';

const REVEAL_COMMAND = Commands.revealProcess;

function stateOf(node: ProcessNode): string {
  if (node.state === 'exited') {
    if (node.signal) return `killed by ${node.signal}`;
    if (typeof node.exitCode === 'number' && node.exitCode < 0) return `killed by signal ${-node.exitCode}`;
    return `exited with code ${node.exitCode ?? '?'}`;
  }
  if (node.state === 'waiting') return node.waitingOn ? `waiting on ${node.waitingOn}` : 'waiting';
  return node.state === 'paused' ? 'paused' : node.state;
}

function iconOf(node: ProcessNode): vscode.ThemeIcon {
  switch (node.state) {
    case 'running':
      return new vscode.ThemeIcon('debug-start', new vscode.ThemeColor('testing.iconPassed'));
    case 'waiting':
      return new vscode.ThemeIcon('watch', new vscode.ThemeColor('editorWarning.foreground'));
    case 'paused':
      return new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('debugIcon.pauseForeground'));
    case 'exited':
      return new vscode.ThemeIcon(
        node.exitCode === 0 ? 'pass' : 'error',
        new vscode.ThemeColor(node.exitCode === 0 ? 'disabledForeground' : 'errorForeground'),
      );
    default:
      return new vscode.ThemeIcon('circle-outline');
  }
}

class ProcessTreeProvider implements vscode.TreeDataProvider<string> {
  readonly #changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.#changed.event;
  readonly #sessions: ProgramSessions;
  #snapshot: ProgramSnapshot | null = null;
  #byKey = new Map<string, ProcessNode>();
  #children = new Map<string | undefined, string[]>();

  constructor(sessions: ProgramSessions) {
    this.#sessions = sessions;
  }

  refresh(): void {
    const { snapshot } = this.#sessions.content();
    if (snapshot === this.#snapshot) return;
    this.#snapshot = snapshot;
    this.#byKey = new Map((snapshot?.processes ?? []).map((p) => [p.key, p]));
    this.#children = new Map();
    for (const p of snapshot?.processes ?? []) {
      const parent = p.parent !== undefined && this.#byKey.has(p.parent) && p.parent !== p.key ? p.parent : undefined;
      const list = this.#children.get(parent) ?? [];
      list.push(p.key);
      this.#children.set(parent, list);
    }
    this.#changed.fire();
  }

  getChildren(key?: string): string[] {
    return this.#children.get(key) ?? [];
  }

  getParent(key: string): string | undefined {
    const parent = this.#byKey.get(key)?.parent;
    return parent !== undefined && this.#byKey.has(parent) ? parent : undefined;
  }

  getTreeItem(key: string): vscode.TreeItem {
    const node = this.#byKey.get(key);
    if (!node) return new vscode.TreeItem(key);
    const hasChildren = (this.#children.get(key)?.length ?? 0) > 0;
    const item = new vscode.TreeItem(node.name, hasChildren ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = key;
    // An inline process (single-process mode) runs in its host's pid: marked so, and has no session of its own to reveal.
    const inline = node.startMethod === 'inline';
    const pid = node.threadId ? `${node.pid}/${node.threadId}` : inline ? `${node.pid} inline` : String(node.pid);
    item.description = `${pid} · ${stateOf(node)}`;
    item.tooltip = `${node.name} (${node.role}, ${node.startMethod}), pid ${pid}: ${stateOf(node)}`;
    item.iconPath = iconOf(node);
    item.contextValue = `forkscope.process.${node.state}`;
    item.accessibilityInformation = { label: `${node.name}, ${node.role}, pid ${pid}, ${stateOf(node)}` };
    if (node.state !== 'exited' && !inline) item.command = { command: REVEAL_COMMAND, title: 'Reveal in Call Stack', arguments: [key] };
    return item;
  }
}

export function registerProcessTreeView(sessions: ProgramSessions, controls: ProcessControls): vscode.Disposable {
  const provider = new ProcessTreeProvider(sessions);
  const view = vscode.window.createTreeView(Views.processes, { treeDataProvider: provider, showCollapseAll: true });
  let timer: NodeJS.Timeout | undefined;
  let lastAt = 0;
  const schedule = () => {
    void vscode.commands.executeCommand('setContext', 'forkscope.hasProgram', sessions.content().snapshot !== null);
    if (!view.visible || timer) return;
    const interval = 1000 / Math.max(1, Math.min(60, vscode.workspace.getConfiguration().get<number>(Settings.maxUpdatesPerSecond, 10)));
    timer = setTimeout(
      () => {
        timer = undefined;
        lastAt = Date.now();
        provider.refresh();
      },
      Math.max(0, lastAt + interval - Date.now()),
    );
  };
  return vscode.Disposable.from(
    view,
    sessions.onDidChange(schedule),
    view.onDidChangeVisibility(schedule),
    vscode.commands.registerCommand(REVEAL_COMMAND, (key: unknown) => {
      if (typeof key === 'string' && sessions.hasProcess(key)) return controls.reveal(key);
    }),
    { dispose: () => timer && clearTimeout(timer) },
  );
}
