// The Forkscope view in the browser: folds host messages into ViewState and renders it at most once
// per animation frame. Never imports Node; every program string reaches the DOM as text.
import type { HostToWebview, WebviewToHost } from '../src/view/messages';
import { DeadlockView } from './deadlockView';
import { el, icon, setText } from './dom';
import { ClusterPanel, ManagerPanel, PipePanel, PoolPanel, QueuePanel, SyncPanel } from './objectPanels';
import { ProcessTree } from './processTree';
import type { ViewState } from './viewState';
import { EMPTY_STATE, reduceView } from './viewState';

declare function acquireVsCodeApi(): { postMessage(message: WebviewToHost): void };

const vscode = acquireVsCodeApi();
const post = (message: WebviewToHost): void => vscode.postMessage(message);
const root = document.getElementById('root')!;

let state: ViewState = EMPTY_STATE;
/** When `state.now` was received, so durations keep counting between updates. */
let receivedAt = performance.now();
let frame = 0;
let isResyncRequested = false;

function scheduleRender(): void {
  if (frame === 0) frame = requestAnimationFrame(render);
}

function buildEmptyState(): HTMLElement {
  const section = el('section', 'empty-state');
  section.append(
    el('span', 'codicon codicon-type-hierarchy empty-icon'),
    el('h2', undefined, 'No program running'),
    el('p', undefined, 'Launch a TypeScript or JavaScript program under Forkscope to see its processes, queues, pipes, locks and pools here, live.'),
  );
  const button = el('button', 'primary', 'Launch Active File');
  button.type = 'button';
  button.addEventListener('click', () => post({ type: 'launchActiveFile' }));
  section.append(button);
  return section;
}

function toolbarButton(codicon: string, text: string, onClick: () => void): HTMLButtonElement {
  const button = el('button', 'toolbar-button');
  button.type = 'button';
  button.append(icon(codicon), el('span', undefined, text));
  button.addEventListener('click', onClick);
  return button;
}

const empty = buildEmptyState();
const program = el('div', 'program');
const toolbar = el('div', 'toolbar');
toolbar.setAttribute('role', 'toolbar');
toolbar.setAttribute('aria-label', 'Program actions');
const sessionName = el('span', 'session-name');
const singleBadge = el('span', 'badge single', 'single process');
const singleToggle = toolbarButton('debug-alt', 'Run as single process', () => post({ type: 'toggleSingleProcess' }));
singleToggle.setAttribute('role', 'switch');
const pauseAll = toolbarButton('debug-pause', 'Pause all', () => post({ type: 'pauseAll' }));
const exportTrace = toolbarButton('save', 'Export trace', () => post({ type: 'exportTrace' }));
toolbar.append(sessionName, singleBadge, el('span', 'spacer'), singleToggle, pauseAll, exportTrace);
const status = el('div', 'status muted');
status.setAttribute('role', 'status');

const deadlocks = new DeadlockView(post);
const processes = new ProcessTree(post, scheduleRender);
const queues = new QueuePanel(post);
const pipes = new PipePanel(post, scheduleRender);
const syncs = new SyncPanel(post);
const pools = new PoolPanel(post);
const clusters = new ClusterPanel(post);
const managers = new ManagerPanel(post);
program.append(
  toolbar,
  deadlocks.element,
  processes.element,
  pools.element,
  managers.element,
  clusters.element,
  queues.element,
  pipes.element,
  syncs.element,
  status,
);

function render(): void {
  frame = 0;
  if (!state.hasProgram) {
    if (empty.parentElement !== root) root.replaceChildren(empty);
    return;
  }
  if (program.parentElement !== root) root.replaceChildren(program);
  const view: ViewState = { ...state, now: state.now + (performance.now() - receivedAt) };
  setText(sessionName, state.sessionName ?? 'Forkscope');
  singleBadge.hidden = !state.singleProcess;
  singleToggle.setAttribute('aria-checked', String(state.singleProcess));
  singleToggle.classList.toggle('checked', state.singleProcess);
  const notes: string[] = [];
  if (state.rejectedConnections > 0) notes.push(`${state.rejectedConnections} rejected connection${state.rejectedConnections === 1 ? '' : 's'}`);
  if (state.droppedEvents > 0) notes.push(`${state.droppedEvents} dropped event${state.droppedEvents === 1 ? '' : 's'}`);
  setText(status, notes.join(' · '));
  status.hidden = notes.length === 0;
  deadlocks.render(view);
  processes.render(view);
  pools.render(view);
  clusters.render(view);
  managers.render(view);
  queues.render(view);
  pipes.render(view);
  syncs.render(view);
}

function isHostMessage(data: unknown): data is HostToWebview {
  if (typeof data !== 'object' || data === null) return false;
  const { type } = data as { type?: unknown };
  if (type === 'snapshot') return 'snapshot' in data;
  if (type === 'delta') return typeof (data as { delta?: unknown }).delta === 'object' && (data as { delta?: unknown }).delta !== null;
  return false;
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (!isHostMessage(event.data)) return;
  const next = reduceView(state, event.data);
  if (next === state) return;
  if (event.data.type === 'snapshot') isResyncRequested = false;
  if (next.now !== state.now || event.data.type === 'snapshot') receivedAt = performance.now();
  state = next;
  if (state.needsResync && !isResyncRequested) {
    isResyncRequested = true;
    post({ type: 'ready' });
  }
  scheduleRender();
});

// Waits and holds keep counting between updates; nothing to redraw when nothing waits.
setInterval(() => {
  if (!state.hasProgram) return;
  for (const p of state.processes.values()) if (p.state === 'waiting') return scheduleRender();
  for (const s of state.syncs.values()) if (s.holder || s.waiters.length) return scheduleRender();
  if (state.queues.size) scheduleRender();
}, 1000);

render();
post({ type: 'ready' });
