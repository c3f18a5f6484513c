// The object panels: queues, pipes, locks and other sync objects, pools, managers. Each is a keyed list whose
// rows rebuild their (small) content only when what they show changed. Browser only.
import type { SourceLocation } from '../runtime/src/protocol';
import type { ClusterNode, ManagerNode, PipeNode, PoolNode, QueueNode, SyncNode } from '../hub/snapshot';
import type { WebviewToHost } from '../src/view/messages';
import { el, icon, KeyedList, setText, svg, toggleClass } from './dom';
import type { KeyedRow } from './dom';
import type { ViewState } from './viewState';
import { formatBytes, formatDuration, formatRate, processLabel } from './viewState';

export type Post = (message: WebviewToHost) => void;

/** A clickable `file.ts:12` that asks the host to open the location. */
export function siteLink(site: SourceLocation, post: Post): HTMLButtonElement {
  const base = site.file.split(/[\\/]/).pop() || site.file;
  const link = el('button', 'link site', `${base}:${site.line}`);
  link.type = 'button';
  link.title = `${site.file}:${site.line}:${site.column}`;
  link.setAttribute('aria-label', `Open ${base} line ${site.line}`);
  link.addEventListener('click', (event) => {
    event.stopPropagation();
    post({ type: 'openSource', file: site.file, line: site.line, column: site.column });
  });
  return link;
}

/** A process named in an object's row; click reveals its debug session. */
export function processChip(state: ViewState, key: string, post: Post): HTMLButtonElement {
  const node = state.processes.get(key);
  const chip = el('button', `link process-chip${node?.state === 'exited' ? ' dead' : ''}`, processLabel(state, key));
  chip.type = 'button';
  chip.setAttribute('aria-label', `Reveal ${processLabel(state, key)}`);
  chip.addEventListener('click', (event) => {
    event.stopPropagation();
    post({ type: 'revealProcess', key });
  });
  return chip;
}

function chips(state: ViewState, keys: readonly string[], post: Post, none: string): HTMLElement {
  const span = el('span', 'chips');
  if (keys.length === 0) span.append(el('span', 'muted', none));
  for (const key of keys.slice(0, 8)) span.append(processChip(state, key, post));
  if (keys.length > 8) span.append(el('span', 'muted', ` +${keys.length - 8} more`));
  return span;
}

function processSignature(state: ViewState, keys: readonly string[]): string {
  return keys.map((k) => `${processLabel(state, k)}${state.processes.get(k)?.state === 'exited' ? '†' : ''}`).join(',');
}

const SPARK_W = 120;
const SPARK_H = 24;
const WINDOW_MS = 60_000;

/** Queue depth over the last minute as a small line; the dashed line is `maxsize`. */
export function sparkline(history: ReadonlyArray<readonly [number, number]>, now: number, maxsize: number): SVGSVGElement {
  const chart = svg('svg', { class: 'sparkline', width: SPARK_W, height: SPARK_H, viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, role: 'img' });
  const recent = history.filter(([ts]) => ts >= now - WINDOW_MS);
  const peak = Math.max(1, maxsize, ...recent.map(([, d]) => d));
  const x = (ts: number) => Math.max(0, Math.min(SPARK_W, ((ts - (now - WINDOW_MS)) / WINDOW_MS) * SPARK_W));
  const y = (d: number) => SPARK_H - 1 - (d / peak) * (SPARK_H - 2);
  if (maxsize > 0) chart.append(svg('line', { class: 'spark-max', x1: 0, x2: SPARK_W, y1: y(maxsize), y2: y(maxsize) }));
  if (recent.length > 0) {
    const points = recent.map(([ts, d]) => `${x(ts).toFixed(1)},${y(d).toFixed(1)}`);
    // Depth holds its last value until now.
    points.push(`${x(now).toFixed(1)},${y(recent[recent.length - 1][1]).toFixed(1)}`);
    chart.append(svg('polyline', { class: 'spark-line', points: points.join(' ') }));
  }
  const depths = recent.map(([, d]) => d);
  const label = depths.length ? `depth over the last minute, from ${Math.min(...depths)} to ${Math.max(...depths)}` : 'no depth samples in the last minute';
  chart.setAttribute('aria-label', label);
  const title = svg('title');
  title.textContent = label;
  chart.append(title);
  return chart;
}

/** A row that rebuilds its content when its signature changes. */
class SignedRow<T> implements KeyedRow<T> {
  readonly element: HTMLElement;
  readonly #sign: (item: T) => string;
  readonly #build: (item: T, element: HTMLElement) => void;
  #signature: string | undefined;

  constructor(className: string, sign: (item: T) => string, build: (item: T, element: HTMLElement) => void) {
    this.element = el('div', className);
    this.element.setAttribute('role', 'listitem');
    this.#sign = sign;
    this.#build = build;
  }

  update(item: T): void {
    const signature = this.#sign(item);
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#build(item, this.element);
  }
}

/** An object row's title: its icon, its label and its kind (callers add what follows, such as the site link). */
function titleParts(codicon: string, label: string, kind: string): HTMLElement[] {
  return [icon(codicon), el('span', 'object-label', label), el('span', 'kind', kind)];
}

/** One titled section holding a keyed list of the model's objects, counted in its heading; hidden when empty. */
abstract class Panel<T> {
  readonly element: HTMLElement;
  protected readonly list: KeyedList<T>;
  readonly #count = el('span', 'count');
  readonly #post: Post;

  constructor(className: string, title: string, post: Post) {
    this.#post = post;
    this.element = el('section', `panel ${className}`);
    const heading = el('h2', undefined, `${title} `);
    heading.id = `${className}-heading`;
    heading.append(this.#count);
    const body = el('div', 'object-list');
    body.setAttribute('role', 'list');
    body.setAttribute('aria-labelledby', heading.id);
    this.element.append(heading, body);
    this.list = new KeyedList(body, (key) => this.createRow(key, this.#post));
  }

  render(state: ViewState): void {
    const items = this.items(state);
    this.element.hidden = items.length === 0;
    setText(this.#count, String(items.length));
    this.list.update(items);
  }

  /** The objects to show, keyed by id, each with what its row needs. */
  protected abstract items(state: ViewState): Array<readonly [string, T]>;

  protected abstract createRow(key: string, post: Post): KeyedRow<T>;
}

interface QueueModel {
  queue: QueueNode;
  state: ViewState;
  /** Whole seconds: the sparkline slides once a second, not every frame. */
  tick: number;
}

export class QueuePanel extends Panel<QueueModel> {
  constructor(post: Post) {
    super('queues', 'Queues', post);
  }

  protected items(state: ViewState) {
    const tick = Math.floor(state.now / 1000);
    return [...state.queues.values()].map((queue) => [queue.id, { queue, state, tick }] as const);
  }

  protected createRow(_key: string, post: Post): KeyedRow<QueueModel> {
    return new QueueRow(post);
  }
}

/** A queue's row: built once; depth, counts and the sparkline change in place (they change most often). */
class QueueRow implements KeyedRow<QueueModel> {
  readonly element = el('div', 'object queue');
  readonly #post: Post;
  readonly #title = el('div', 'object-title');
  readonly #depth = el('span', 'metric-value');
  readonly #max = el('span', 'muted');
  readonly #full = el('span', 'badge warn', 'full');
  readonly #counts = el('span', 'muted');
  readonly #chart = svg('svg', { class: 'sparkline', width: SPARK_W, height: SPARK_H, viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, role: 'img' });
  readonly #flow = el('div', 'object-line flow');
  #titleSignature = '';
  #flowSignature = '';
  #chartSignature = '';

  constructor(post: Post) {
    this.#post = post;
    this.element.setAttribute('role', 'listitem');
    const depth = el('div', 'metric depth');
    depth.append(this.#depth, this.#max, this.#full);
    const line = el('div', 'object-line');
    line.append(depth, this.#chart, this.#counts);
    this.element.append(this.#title, line, this.#flow);
  }

  update({ queue: q, state, tick }: QueueModel): void {
    const post = this.#post;
    const titleSignature = JSON.stringify([q.label, q.id, q.kind, q.site]);
    if (titleSignature !== this.#titleSignature) {
      this.#titleSignature = titleSignature;
      this.#title.replaceChildren(...titleParts('inbox', q.label || q.id, q.kind));
      if (q.site) this.#title.append(siteLink(q.site, post));
    }
    const isFull = q.maxsize > 0 && q.depth >= q.maxsize;
    toggleClass(this.element, 'full', isFull);
    this.#full.hidden = !isFull;
    setText(this.#depth, String(q.depth));
    setText(this.#max, q.maxsize > 0 ? ` / ${q.maxsize}` : ' / ∞');
    setText(this.#counts, `${q.puts} put · ${q.gets} got`);
    const chartSignature = `${q.maxsize}|${q.history.length}|${q.history.at(-1)?.[0]}|${q.history.at(-1)?.[1]}|${tick}`;
    if (chartSignature !== this.#chartSignature) {
      this.#chartSignature = chartSignature;
      this.#chart.replaceChildren(...Array.from(sparkline(q.history, state.now, q.maxsize).childNodes));
      this.#chart.setAttribute('aria-label', this.#chart.querySelector('title')?.textContent ?? '');
    }
    const flowSignature = `${processSignature(state, q.producers)}>${processSignature(state, q.consumers)}`;
    if (flowSignature !== this.#flowSignature) {
      this.#flowSignature = flowSignature;
      this.#flow.replaceChildren(
        el('span', 'muted', 'producers '),
        chips(state, q.producers, post, 'none'),
        icon('arrow-right'),
        el('span', 'muted', ' consumers '),
        chips(state, q.consumers, post, 'none'),
      );
    }
    this.element.setAttribute(
      'aria-label',
      `${q.kind} ${q.label || q.id}, depth ${q.depth}${q.maxsize > 0 ? ` of ${q.maxsize}` : ''}${isFull ? ', full' : ''}`,
    );
  }
}

interface PipeModel {
  pipe: PipeNode;
  state: ViewState;
  isOpen: boolean;
}

export class PipePanel extends Panel<PipeModel> {
  readonly #open = new Set<string>();
  readonly #requestRender: () => void;
  constructor(post: Post, requestRender: () => void) {
    super('pipes', 'Pipes and channels', post);
    this.#requestRender = requestRender;
  }

  protected items(state: ViewState) {
    return [...state.pipes.values()].map((pipe) => [pipe.id, { pipe, state, isOpen: this.#open.has(pipe.id) }] as const);
  }

  protected createRow(key: string, post: Post): KeyedRow<PipeModel> {
    const toggle = () => {
      if (this.#open.has(key)) this.#open.delete(key);
      else this.#open.add(key);
      this.#requestRender();
    };
    const row = new SignedRow<PipeModel>(
      'object pipe',
      ({ pipe: p, state, isOpen }) =>
        `${p.messages}|${p.bytes}|${p.messagesPerSecond}|${p.bytesPerSecond}|${p.label}|${isOpen}|${isOpen ? p.recent.join('\u0000') : ''}|${processSignature(state, p.ends)}`,
      ({ pipe: p, state, isOpen }, element) => {
        const title = el('div', 'object-title');
        const expander = el('button', 'link expander');
        expander.type = 'button';
        expander.setAttribute('aria-expanded', String(isOpen));
        expander.setAttribute('aria-label', `${isOpen ? 'Hide' : 'Show'} the last messages of ${p.label || p.id}`);
        expander.append(icon(isOpen ? 'chevron-down' : 'chevron-right'));
        expander.addEventListener('click', toggle);
        title.append(expander, ...titleParts('arrow-swap', p.label || p.id, p.kind));
        const ends = el('div', 'object-line flow');
        p.ends.forEach((end, i) => {
          if (i > 0) ends.append(icon('arrow-both'));
          ends.append(processChip(state, end, post));
        });
        if (p.ends.length === 0) ends.append(el('span', 'muted', 'ends not known yet'));
        const rates = el('div', 'object-line');
        rates.append(
          el('span', 'metric', `${formatRate(p.messagesPerSecond)} msg/s`),
          el('span', 'metric', `${formatBytes(p.bytesPerSecond)}/s`),
          el('span', 'muted', `${p.messages} messages · ${formatBytes(p.bytes)} in all`),
        );
        const children: HTMLElement[] = [title, ends, rates];
        if (isOpen) {
          const recent = el('ol', 'previews');
          recent.setAttribute('aria-label', 'Last messages, newest last');
          for (const preview of p.recent) recent.append(el('li', 'preview', preview));
          if (p.recent.length === 0) recent.append(el('li', 'muted', 'no messages yet'));
          children.push(recent);
        }
        element.setAttribute('aria-label', `${p.kind} ${p.label || p.id}, ${formatRate(p.messagesPerSecond)} messages per second`);
        element.replaceChildren(...children);
      },
    );
    row.element.addEventListener('click', toggle);
    return row;
  }
}

const SYNC_ICONS: Record<string, string> = {
  Lock: 'lock',
  RLock: 'lock',
  Semaphore: 'key',
  BoundedSemaphore: 'key',
  Event: 'bell',
  Condition: 'watch',
  Barrier: 'debug-breakpoint-log-unverified',
  Value: 'symbol-variable',
  Array: 'symbol-array',
  Manager: 'database',
};

interface SyncModel {
  sync: SyncNode;
  state: ViewState;
  tick: number;
}

export class SyncPanel extends Panel<SyncModel> {
  constructor(post: Post) {
    super('syncs', 'Locks and sync objects', post);
  }

  protected items(state: ViewState) {
    const tick = Math.floor(state.now / 1000);
    return [...state.syncs.values()].map((sync) => [sync.id, { sync, state, tick }] as const);
  }

  protected createRow(_key: string, post: Post): KeyedRow<SyncModel> {
    return new SignedRow<SyncModel>(
      'object sync',
      ({ sync: s, state, tick }) =>
        JSON.stringify([
          s,
          processSignature(state, [...(s.holder ? [s.holder] : []), ...s.waiters.map((w) => w.key)]),
          s.waiters.length || s.holder ? tick : 0,
        ]),
      ({ sync: s, state }, row) => {
        row.classList.toggle('contended', s.waiters.length > 0);
        const title = el('div', 'object-title');
        title.append(...titleParts(SYNC_ICONS[s.kind] ?? 'lock', s.label || s.id, s.kind));
        if (s.site) title.append(siteLink(s.site, post));
        if (s.ownerDied) title.append(el('span', 'badge error', 'owner died'));
        if (s.isSet !== undefined)
          title.append(el('span', `badge${s.isSet ? ' ok' : ''}`, s.kind === 'Barrier' ? (s.isSet ? 'broken' : 'intact') : s.isSet ? 'set' : 'not set'));
        const holder = el('div', 'object-line holder');
        if (s.holder) {
          holder.append(el('span', 'muted', 'held by '), processChip(state, s.holder, post));
          if (s.heldSince !== undefined) holder.append(el('span', 'muted', ` for ${formatDuration(state.now - s.heldSince)}`));
          if (s.acquiredAt) holder.append(el('span', 'muted', ' at '), siteLink(s.acquiredAt, post));
        } else if (s.kind === 'Lock' || s.kind === 'RLock' || s.kind.endsWith('Semaphore')) {
          holder.append(el('span', 'muted', 'free'));
        }
        const children: HTMLElement[] = [title, holder];
        if (s.waiters.length > 0) {
          const waiters = el('ul', 'waiters');
          waiters.setAttribute('aria-label', `${s.waiters.length} waiting`);
          for (const w of s.waiters) {
            const item = el('li');
            item.append(icon('watch'), processChip(state, w.key, post), el('span', 'muted', ` waiting ${formatDuration(state.now - w.since)}`));
            if (w.site) item.append(el('span', 'muted', ' at '), siteLink(w.site, post));
            waiters.append(item);
          }
          children.push(waiters);
        }
        row.setAttribute(
          'aria-label',
          `${s.kind} ${s.label || s.id}${s.holder ? `, held by ${processLabel(state, s.holder)}` : ''}, ${s.waiters.length} waiting`,
        );
        row.replaceChildren(...children);
      },
    );
  }
}

interface PoolModel {
  pool: PoolNode;
  state: ViewState;
}

export class PoolPanel extends Panel<PoolModel> {
  constructor(post: Post) {
    super('pools', 'Pools', post);
  }

  protected items(state: ViewState) {
    return [...state.pools.values()].map((pool) => [pool.id, { pool, state }] as const);
  }

  protected createRow(_key: string, post: Post): KeyedRow<PoolModel> {
    return new SignedRow<PoolModel>(
      'object pool',
      ({ pool: p, state }) => JSON.stringify([p, processSignature(state, p.workers)]),
      ({ pool: p, state }, row) => {
        const busy = new Set(p.busy);
        const title = el('div', 'object-title');
        title.append(...titleParts('server-environment', p.label || p.id, 'Pool'));
        const workers = el('div', 'object-line workers');
        workers.append(el('span', 'metric', `${busy.size} busy · ${Math.max(0, p.workers.length - busy.size)} idle`));
        const cells = el('span', 'worker-cells');
        cells.setAttribute('aria-hidden', 'true');
        for (const key of p.workers.slice(0, 64)) {
          const cell = el('span', `worker-cell${busy.has(key) ? ' busy' : ''}`);
          cell.title = `${processLabel(state, key)}: ${busy.has(key) ? 'busy' : 'idle'}`;
          cells.append(cell);
        }
        workers.append(cells);
        const tasks = el('div', 'object-line tasks');
        tasks.append(
          el('span', 'metric', `${p.queued} queued`),
          el('span', 'metric', `${p.running} running`),
          el('span', 'metric', `${p.done} done`),
          el('span', `metric${p.failed ? ' error-text' : ''}`, `${p.failed} failed`),
          el('span', 'muted', p.done + p.failed > 0 ? `mean task ${formatDuration(p.meanTaskMs)}` : 'no task finished yet'),
        );
        const list = el('div', 'object-line flow');
        list.append(el('span', 'muted', 'workers '), chips(state, p.workers, post, 'none yet'));
        row.setAttribute(
          'aria-label',
          `Pool ${p.label || p.id}: ${busy.size} of ${p.workers.length} workers busy, ${p.queued} queued, ${p.running} running, ${p.done} done, ${p.failed} failed`,
        );
        row.replaceChildren(title, workers, tasks, list);
      },
    );
  }
}

/** A bullmq cluster: the queue's counts read from Redis, then a node per host with its workers (pid, capacity, program, state, this program's jobs). */
export class ClusterPanel extends Panel<ClusterNode> {
  constructor(post: Post) {
    super('clusters', 'Remote workers', post);
  }

  protected items(state: ViewState) {
    return [...state.clusters.values()].map((c) => [c.id, c] as const);
  }

  protected createRow(_key: string, post: Post): KeyedRow<ClusterNode> {
    return new SignedRow<ClusterNode>(
      'object cluster',
      (c) => JSON.stringify(c),
      (c, row) => {
        const title = el('div', 'object-title');
        title.append(...titleParts('cloud', c.queue, `redis ${c.address}`));
        const jobs = el('div', 'object-line tasks');
        jobs.append(
          el('span', 'metric', `${c.waiting} waiting`),
          el('span', 'metric', `${c.active} in flight`),
          el('span', 'metric', `${c.completed} completed`),
          el('span', `metric${c.failed ? ' error-text' : ''}`, `${c.failed} failed`),
          el('span', `metric${c.retried ? ' error-text' : ''}`, `${c.retried} retried`),
        );
        const hosts = el('ul', 'cluster-hosts');
        const byHost = new Map<string, ClusterNode['workers']>();
        for (const w of c.workers) byHost.set(w.host, [...(byHost.get(w.host) ?? []), w]);
        for (const [host, workers] of byHost) {
          const item = el('li', 'cluster-host');
          item.append(icon('vm'), el('span', 'object-label', ` ${host}`));
          const list = el('ul', 'cluster-workers');
          for (const w of workers) {
            const state = w.alive ? (w.running ? `running ${w.running}` : 'idle') : 'gone';
            const line = el('li', `cluster-worker${w.alive ? '' : ' dead'}`);
            line.append(
              icon(w.alive ? 'server-process' : 'debug-disconnect'),
              el('span', undefined, ` ${w.name} `),
              el('span', 'muted', `pid ${w.pid}${w.capacity ? ` · capacity ${w.capacity}` : ''}${w.program ? ` · ${w.program}@${w.version}` : ''} · `),
              el('span', w.alive ? 'metric' : 'muted', state),
              el('span', 'metric', ` · ${w.jobsDone} done`),
              el('span', `metric${w.jobsFailed ? ' error-text' : ''}`, ` · ${w.jobsFailed} failed`),
            );
            if (w.alive) {
              const debug = el('button', 'link', ' Debug this worker');
              debug.type = 'button';
              debug.setAttribute('aria-label', `Debug worker ${w.name} on ${host}`);
              debug.addEventListener('click', (event) => {
                event.stopPropagation();
                post({ type: 'debugRemoteWorker', cluster: c.id, worker: w.name });
              });
              line.append(debug);
            }
            line.setAttribute(
              'aria-label',
              `worker ${w.name} on ${host}, pid ${w.pid}, capacity ${w.capacity}, ${state}, ${w.jobsDone} done, ${w.jobsFailed} failed`,
            );
            list.append(line);
          }
          item.append(list);
          hosts.append(item);
        }
        row.setAttribute(
          'aria-label',
          `Cluster ${c.queue} on ${c.address}: ${byHost.size} hosts, ${c.workers.length} workers, ${c.waiting} waiting, ${c.active} in flight, ${c.failed} failed, ${c.retried} retried`,
        );
        row.replaceChildren(title, jobs, hosts);
      },
    );
  }
}

interface ManagerModel {
  manager: ManagerNode;
  state: ViewState;
}

/** Managers: calls counted by their callers, per method and per caller, and the last few calls. */
export class ManagerPanel extends Panel<ManagerModel> {
  constructor(post: Post) {
    super('managers', 'Managers', post);
  }

  protected items(state: ViewState) {
    return [...state.managers.values()].map((manager) => [manager.id, { manager, state }] as const);
  }

  protected createRow(_key: string, post: Post): KeyedRow<ManagerModel> {
    return new SignedRow<ManagerModel>(
      'object manager',
      ({ manager: m, state }) =>
        JSON.stringify([
          m.calls,
          m.errors,
          m.served,
          m.server,
          m.methods,
          m.callers,
          m.recent,
          processSignature(
            state,
            m.callers.map((c) => c.key),
          ),
        ]),
      ({ manager: m, state }, row) => {
        const title = el('div', 'object-title');
        title.append(...titleParts('server-process', m.label || m.id, 'Manager'));
        if (m.server !== undefined) title.append(el('span', 'muted', ' served by '), processChip(state, m.server, post));
        const totals = el('div', 'object-line calls');
        totals.append(
          el('span', 'metric', `${m.calls} call${m.calls === 1 ? '' : 's'}`),
          el('span', `metric${m.errors ? ' error-text' : ''}`, `${m.errors} failed`),
          el('span', 'muted', m.calls > 0 ? `mean ${callTime(m.meanMs)}` : 'no call yet'),
        );
        const methods = el('ul', 'manager-methods');
        methods.setAttribute('aria-label', 'calls per method');
        for (const r of m.methods.slice(0, 8)) {
          const item = el('li');
          item.append(
            el('span', 'object-label', `${r.typeid}.${r.method}`),
            el('span', 'metric', ` ${r.calls}`),
            el('span', 'muted', ` · mean ${callTime(r.meanMs)}`),
          );
          if (r.errors) item.append(el('span', 'error-text', ` · ${r.errors} failed`));
          methods.append(item);
        }
        if (m.methods.length > 8) methods.append(el('li', 'muted', `… ${m.methods.length - 8} more`));
        const callers = el('div', 'object-line flow');
        callers.append(el('span', 'muted', 'callers '));
        for (const c of m.callers.slice(0, 8)) callers.append(processChip(state, c.key, post), el('span', 'muted', ` ${c.calls} `));
        if (m.callers.length > 8) callers.append(el('span', 'muted', `+${m.callers.length - 8} more`));
        const children: HTMLElement[] = [title, totals, methods, callers];
        const last = m.recent[m.recent.length - 1];
        if (last) {
          const recent = el('div', 'object-line muted');
          recent.append(
            el('span', undefined, 'last call '),
            processChip(state, last.caller, post),
            el(
              'span',
              last.outcome === 'error' ? 'error-text' : undefined,
              ` ${last.typeid}.${last.method} ${callTime(last.ms)}${last.outcome === 'error' ? ` failed${last.error ? `: ${last.error}` : ''}` : ''}`,
            ),
          );
          children.push(recent);
        }
        row.setAttribute(
          'aria-label',
          `Manager ${m.label || m.id}: ${m.calls} calls, ${m.errors} failed, from ${m.callers.length} process${m.callers.length === 1 ? '' : 'es'}`,
        );
        row.replaceChildren(...children);
      },
    );
  }
}

/** A call's time: manager calls often take a fraction of a millisecond. */
function callTime(ms: number): string {
  return ms < 10 && ms >= 0 ? `${ms.toFixed(ms < 1 ? 2 : 1)} ms` : formatDuration(ms);
}
