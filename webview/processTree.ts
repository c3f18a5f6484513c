// The process tree: a keyboard-navigable treegrid of every process and worker, keyed by process key.
// Browser only; reads ViewState, posts actions through the `post` function it is given.
import type { ProcessNode } from '../hub/snapshot';
import type { WebviewToHost } from '../src/view/messages';
import { el, icon, iconButton, KeyedList, setText, toggleClass } from './dom';
import type { KeyedRow } from './dom';
import type { ProcessRow, ViewState } from './viewState';
import { describeState, formatBytes, processRows } from './viewState';

const ROW_HEIGHT = 22;
const OVERSCAN = 10;

interface RowModel {
  key: string;
  /** Position in the whole tree, for absolute placement and aria-rowindex. */
  index: number;
  depth: number;
  hasChildren: boolean;
  expanded: boolean;
  node: ProcessNode;
  stateText: string;
  isSelected: boolean;
}

const ROLE_ICONS: Record<string, string> = {
  main: 'window',
  process: 'server-process',
  worker: 'gear',
  manager: 'database',
  forkserver: 'repo-forked',
  external: 'link-external',
};

function stateClass(node: ProcessNode): string {
  if (node.state !== 'exited') return `state-${node.state}`;
  const killed = Boolean(node.signal) || (typeof node.exitCode === 'number' && node.exitCode < 0);
  return killed ? 'state-killed' : node.exitCode ? 'state-failed' : 'state-exited';
}

/** Resident memory in bytes, as the hub's process sampler reports it. */
function formatMemory(memory: number | undefined): string {
  return memory === undefined ? '' : formatBytes(memory);
}

class ProcessRowView implements KeyedRow<RowModel> {
  readonly element = el('div', 'row process-row');
  readonly #twistie = icon('chevron-down', 'twistie');
  readonly #roleIcon = icon('server-process', 'role-icon');
  readonly #name = el('span', 'name-text');
  readonly #role = el('div', 'cell role');
  readonly #pid = el('div', 'cell pid');
  readonly #stateDot = el('span', 'state-dot');
  readonly #state = el('span', 'state-text');
  readonly #cpu = el('div', 'cell num cpu');
  readonly #memory = el('div', 'cell num memory');
  readonly #actions = el('div', 'cell actions');
  readonly #buttons: HTMLButtonElement[];
  #last: RowModel | undefined;
  #iconName = '';
  #stateClass = '';

  constructor(key: string, post: (message: WebviewToHost) => void) {
    this.element.setAttribute('role', 'row');
    this.element.dataset.key = key;
    this.element.tabIndex = -1;
    const nameCell = el('div', 'cell name');
    nameCell.setAttribute('role', 'gridcell');
    this.#twistie.dataset.twistie = '1';
    nameCell.append(this.#twistie, this.#roleIcon, this.#name);
    const stateCell = el('div', 'cell state');
    stateCell.append(this.#stateDot, this.#state);
    for (const cell of [this.#role, this.#pid, stateCell, this.#cpu, this.#memory, this.#actions]) cell.setAttribute('role', 'gridcell');
    this.#buttons = [
      iconButton('debug-pause', 'Pause this process', () => post({ type: 'processAction', key, action: 'pause' })),
      iconButton('debug-continue', 'Continue this process', () => post({ type: 'processAction', key, action: 'continue' })),
      iconButton('debug-stop', 'Stop this process', () => post({ type: 'processAction', key, action: 'stop' })),
    ];
    for (const button of this.#buttons) button.tabIndex = -1;
    this.#actions.append(...this.#buttons);
    this.element.append(nameCell, this.#role, this.#pid, stateCell, this.#cpu, this.#memory, this.#actions);
  }

  update(model: RowModel): void {
    const last = this.#last;
    const { node } = model;
    if (last?.index !== model.index) {
      this.element.style.top = `${model.index * ROW_HEIGHT}px`;
      this.element.setAttribute('aria-rowindex', String(model.index + 2));
    }
    if (last?.depth !== model.depth) {
      this.element.setAttribute('aria-level', String(model.depth + 1));
      this.element.style.setProperty('--depth', String(model.depth));
    }
    if (last?.hasChildren !== model.hasChildren || last?.expanded !== model.expanded) {
      if (model.hasChildren) this.element.setAttribute('aria-expanded', String(model.expanded));
      else this.element.removeAttribute('aria-expanded');
      toggleClass(this.#twistie, 'hidden', !model.hasChildren);
      toggleClass(this.#twistie, 'collapsed', !model.expanded);
    }
    if (last?.isSelected !== model.isSelected) {
      this.element.setAttribute('aria-selected', String(model.isSelected));
      toggleClass(this.element, 'selected', model.isSelected);
      this.element.tabIndex = model.isSelected ? 0 : -1;
      for (const button of this.#buttons) button.tabIndex = model.isSelected ? 0 : -1;
    }
    if (last?.node !== node || last.stateText !== model.stateText) {
      const iconName = node.startMethod === 'thread' && node.role !== 'main' ? 'pulse' : (ROLE_ICONS[node.role] ?? 'server-process');
      if (iconName !== this.#iconName) {
        this.#roleIcon.classList.remove(`codicon-${this.#iconName}`);
        this.#roleIcon.classList.add(`codicon-${iconName}`);
        this.#iconName = iconName;
      }
      setText(this.#name, node.name);
      setText(this.#role, node.external ? `${node.role} (external)` : node.role);
      setText(this.#pid, node.threadId ? `${node.pid}/${node.threadId}` : String(node.pid));
      setText(this.#state, model.stateText);
      setText(this.#cpu, node.cpu === undefined ? '' : `${node.cpu.toFixed(node.cpu < 10 ? 1 : 0)}%`);
      setText(this.#memory, formatMemory(node.memory));
      const cls = stateClass(node);
      if (cls !== this.#stateClass) {
        if (this.#stateClass) this.element.classList.remove(this.#stateClass);
        this.element.classList.add(cls);
        this.#stateClass = cls;
      }
      const isDead = node.state === 'exited';
      toggleClass(this.element, 'dead', isDead);
      toggleClass(this.#actions, 'hidden', isDead);
      // Pause and continue stay available: a process paused in a session the view does not know of still answers.
      for (const button of this.#buttons) button.disabled = isDead;
      const label = `${node.name}, ${node.role}, pid ${node.pid}${node.threadId ? ` thread ${node.threadId}` : ''}, ${model.stateText}`;
      this.element.setAttribute('aria-label', label);
      // A narrow sidebar truncates cells: the tooltip carries the whole row.
      this.element.title = `${label} (${node.startMethod})`;
    }
    this.#last = model;
  }
}

/** The "Processes" section: header row, then one row per visible process, depth-first. */
export class ProcessTree {
  readonly element = el('section', 'panel processes');
  readonly #grid = el('div', 'treegrid');
  readonly #body = el('div', 'rows');
  readonly #count = el('span', 'count');
  readonly #list: KeyedList<RowModel>;
  readonly #collapsed = new Set<string>();
  readonly #post: (message: WebviewToHost) => void;
  readonly #requestRender: () => void;
  #selected: string | undefined;
  #state: ViewState | undefined;
  /** Every row of the tree in order (memoised per processes map and collapse change), and the rendered slice. */
  #allRows: ProcessRow[] = [];
  #rowsFor: ViewState['processes'] | undefined;
  #collapsedVersion = 0;
  #rowsCollapsedVersion = -1;
  #visible: string[] = [];
  #indexOf = new Map<string, number>();
  #rows = new Map<string, RowModel>();

  constructor(post: (message: WebviewToHost) => void, requestRender: () => void) {
    this.#post = post;
    this.#requestRender = requestRender;
    const heading = el('h2', undefined, 'Processes ');
    heading.id = 'processes-heading';
    heading.append(this.#count);
    this.#grid.setAttribute('role', 'treegrid');
    this.#grid.setAttribute('aria-labelledby', 'processes-heading');
    const header = el('div', 'row header');
    header.setAttribute('role', 'row');
    for (const [text, cls] of [
      ['Name', 'name'],
      ['Role', 'role'],
      ['PID', 'pid'],
      ['State', 'state'],
      ['CPU', 'num'],
      ['Memory', 'num'],
      ['', 'actions'],
    ]) {
      const cell = el('div', `cell ${cls}`, text);
      cell.setAttribute('role', 'columnheader');
      header.append(cell);
    }
    this.#body.setAttribute('role', 'rowgroup');
    this.#grid.append(header, this.#body);
    this.element.append(heading, this.#grid);
    this.#list = new KeyedList(this.#body, (key) => new ProcessRowView(key, post));
    this.#body.addEventListener('click', (event) => this.#onClick(event));
    this.#body.addEventListener('keydown', (event) => this.#onKey(event));
    window.addEventListener('scroll', requestRender, { passive: true });
    window.addEventListener('resize', requestRender);
  }

  render(state: ViewState): void {
    this.#state = state;
    if (state.processes !== this.#rowsFor || this.#collapsedVersion !== this.#rowsCollapsedVersion) {
      this.#allRows = processRows(state.processes, this.#collapsed);
      this.#rowsFor = state.processes;
      this.#rowsCollapsedVersion = this.#collapsedVersion;
      this.#visible = this.#allRows.map((r) => r.node.key);
      this.#indexOf = new Map(this.#visible.map((key, i) => [key, i]));
    }
    const rows = this.#allRows;
    if (this.#selected === undefined || !this.#indexOf.has(this.#selected)) this.#selected = rows[0]?.node.key;
    // Only the rows in (or near) the viewport exist in the DOM: the cost of a frame does not grow with the tree.
    const top = this.#body.getBoundingClientRect().top;
    const first = Math.max(0, Math.floor(-top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((window.innerHeight - top) / ROW_HEIGHT) + OVERSCAN);
    const models = new Map<string, RowModel>();
    for (let index = first; index < last; index++) {
      const row = rows[index];
      const key = row.node.key;
      models.set(key, {
        key,
        index,
        depth: row.depth,
        hasChildren: row.hasChildren,
        expanded: row.expanded,
        node: row.node,
        stateText: describeState(state, row.node),
        isSelected: key === this.#selected,
      });
    }
    this.#rows = models;
    this.#body.style.height = `${rows.length * ROW_HEIGHT}px`;
    this.#grid.setAttribute('aria-rowcount', String(rows.length + 1));
    this.#list.update(models);
    let alive = 0;
    for (const node of state.processes.values()) if (node.state !== 'exited') alive++;
    setText(this.#count, `${alive} running · ${state.processes.size - alive} ended`);
  }

  #onClick(event: MouseEvent): void {
    const row = (event.target as Element).closest<HTMLElement>('.process-row');
    const key = row?.dataset.key;
    if (!key) return;
    if ((event.target as Element).closest('[data-twistie]')) this.#toggle(key);
    else {
      this.#select(key, true);
      this.#post({ type: 'revealProcess', key });
    }
  }

  #onKey(event: KeyboardEvent): void {
    const key = this.#selected;
    if (key === undefined) return;
    const index = this.#visible.indexOf(key);
    const model = this.#rows.get(key);
    let handled = true;
    switch (event.key) {
      case 'ArrowDown':
        this.#select(this.#visible[Math.min(index + 1, this.#visible.length - 1)], true);
        break;
      case 'ArrowUp':
        this.#select(this.#visible[Math.max(index - 1, 0)], true);
        break;
      case 'Home':
        this.#select(this.#visible[0], true);
        break;
      case 'End':
        this.#select(this.#visible[this.#visible.length - 1], true);
        break;
      case 'ArrowRight':
        if (model?.hasChildren && !model.expanded) this.#toggle(key);
        else if (model?.hasChildren) this.#select(this.#visible[index + 1], true);
        break;
      case 'ArrowLeft':
        if (model?.hasChildren && model.expanded) this.#toggle(key);
        else if (model?.node.parent && this.#indexOf.has(model.node.parent)) this.#select(model.node.parent, true);
        break;
      case 'Enter':
        this.#post({ type: 'revealProcess', key });
        break;
      default:
        handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  #toggle(key: string): void {
    if (this.#collapsed.has(key)) this.#collapsed.delete(key);
    else this.#collapsed.add(key);
    this.#collapsedVersion++;
    this.#requestRender();
  }

  #select(key: string | undefined, focus: boolean): void {
    if (key === undefined) return;
    this.#selected = key;
    const index = this.#indexOf.get(key);
    if (index === undefined || !this.#state) return;
    // Bring the row into the viewport first: it may not be rendered yet.
    const bodyTop = this.#body.getBoundingClientRect().top;
    const rowTop = bodyTop + index * ROW_HEIGHT;
    if (rowTop < 0) window.scrollBy(0, rowTop - ROW_HEIGHT * 2);
    else if (rowTop + ROW_HEIGHT > window.innerHeight) window.scrollBy(0, rowTop + ROW_HEIGHT * 3 - window.innerHeight);
    this.render(this.#state);
    if (focus) this.#list.row(key)?.element.focus({ preventScroll: true });
  }
}
