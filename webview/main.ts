// The Forkscope view in the browser: renders the program model the host sends. Never imports Node.
import type { HostToWebview, WebviewToHost } from '../src/view/messages';

declare function acquireVsCodeApi(): { postMessage(message: WebviewToHost): void };

const vscode = acquireVsCodeApi();
const root = document.getElementById('root')!;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text; // program strings are always text, never HTML
  return node;
}

function renderEmpty(): void {
  const section = el('section', 'empty-state');
  section.append(
    el('span', 'codicon codicon-type-hierarchy empty-icon'),
    el('h2', undefined, 'No program running'),
    el('p', undefined, 'Launch a TypeScript or JavaScript program under Forkscope to see its processes, queues, pipes, locks and pools here, live.'),
  );
  const button = el('button', 'primary', 'Launch Active File');
  button.addEventListener('click', () => vscode.postMessage({ type: 'launchActiveFile' }));
  section.append(button);
  root.replaceChildren(section);
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  if (event.data?.type === 'snapshot' && event.data.snapshot === null) renderEmpty();
});

renderEmpty();
vscode.postMessage({ type: 'ready' });
