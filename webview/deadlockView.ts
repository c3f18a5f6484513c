// Deadlocks: each cycle of the wait-for graph drawn as a ring of processes and the locks between
// them, with the sentence naming the locations. Browser only.
import type { Deadlock } from '../hub/snapshot';
import { el, icon, setText, svg } from './dom';
import type { Post } from './objectPanels';
import { processChip, siteLink } from './objectPanels';
import type { ViewState } from './viewState';
import { objectLabel, processLabel } from './viewState';

const SIZE = 260;
const RADIUS = 90;

function shorten(text: string, max = 22): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The ring: process, lock it waits for, the process holding that lock, and so on back to the first. */
function cycleDrawing(state: ViewState, deadlock: Deadlock): SVGSVGElement {
  const nodes: Array<{ label: string; kind: 'process' | 'lock' }> = [];
  for (const step of deadlock.cycle) {
    nodes.push({ label: processLabel(state, step.process), kind: 'process' });
    nodes.push({ label: objectLabel(state, step.waitsFor), kind: 'lock' });
  }
  const chart = svg('svg', { class: 'cycle', width: SIZE, height: SIZE, viewBox: `0 0 ${SIZE} ${SIZE}`, role: 'img' });
  chart.setAttribute('aria-label', `Deadlock cycle: ${nodes.map((n) => n.label).join(', then ')}, then back to ${nodes[0]?.label ?? ''}`);
  const defs = svg('defs');
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow-head' }));
  defs.append(marker);
  chart.append(defs);
  const at = (i: number) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, nodes.length);
    return { x: SIZE / 2 + RADIUS * Math.cos(angle), y: SIZE / 2 + RADIUS * Math.sin(angle) };
  };
  nodes.forEach((_, i) => {
    const a = at(i);
    const b = at((i + 1) % nodes.length);
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const length = Math.hypot(dx, dy) || 1;
    const pad = 20;
    chart.append(
      svg('line', {
        class: `edge ${nodes[i].kind === 'process' ? 'waits' : 'held'}`,
        x1: a.x + (dx / length) * pad,
        y1: a.y + (dy / length) * pad,
        x2: b.x - (dx / length) * pad,
        y2: b.y - (dy / length) * pad,
        'marker-end': 'url(#arrow)',
      }),
    );
  });
  nodes.forEach((node, i) => {
    const p = at(i);
    const group = svg('g', { class: `cycle-node ${node.kind}` });
    if (node.kind === 'process') group.append(svg('circle', { cx: p.x, cy: p.y, r: 14 }));
    else group.append(svg('rect', { x: p.x - 11, y: p.y - 11, width: 22, height: 22, transform: `rotate(45 ${p.x} ${p.y})` }));
    const text = svg('text', { x: p.x, y: p.y + 28, 'text-anchor': 'middle' });
    text.textContent = shorten(node.label);
    const title = svg('title');
    title.textContent = node.label;
    group.append(title, text);
    chart.append(group);
  });
  return chart;
}

/** The "Deadlocks" section, shown only while a cycle exists. */
export class DeadlockView {
  readonly element = el('section', 'panel deadlocks');
  readonly #body = el('div', 'deadlock-list');
  readonly #count = el('span', 'count');
  readonly #post: Post;
  #signature = '';

  constructor(post: Post) {
    this.#post = post;
    const heading = el('h2');
    heading.append(icon('error'), document.createTextNode(' Deadlocks '), this.#count);
    this.element.setAttribute('role', 'alert');
    this.element.append(heading, this.#body);
    this.element.hidden = true;
  }

  render(state: ViewState): void {
    const signature = JSON.stringify([state.deadlocks, state.deadlocks.length ? [...state.processes.values()].map((p) => p.name) : 0]);
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.element.hidden = state.deadlocks.length === 0;
    setText(this.#count, String(state.deadlocks.length));
    this.#body.replaceChildren(
      ...state.deadlocks.map((deadlock) => {
        const item = el('div', 'deadlock');
        const steps = el('ol', 'cycle-steps');
        for (const step of deadlock.cycle) {
          const li = el('li');
          li.append(processChip(state, step.process, this.#post), el('span', undefined, ` waits for ${objectLabel(state, step.waitsFor)}`));
          if (step.site) li.append(el('span', 'muted', ' at '), siteLink(step.site, this.#post));
          li.append(el('span', undefined, ', held by '), processChip(state, step.heldBy, this.#post));
          steps.append(li);
        }
        item.append(cycleDrawing(state, deadlock), el('p', 'deadlock-message', deadlock.message), steps);
        return item;
      }),
    );
  }
}
