// Small DOM helpers for the webview: element builders that only ever set text, and a keyed list.
// Browser only; program strings reach the DOM through `textContent` and attributes, never as HTML.

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/** A codicon as a decorative span (screen readers get the label from the surrounding control). */
export function icon(name: string, className = ''): HTMLSpanElement {
  const span = el('span', `codicon codicon-${name}${className ? ` ${className}` : ''}`);
  span.setAttribute('aria-hidden', 'true');
  return span;
}

/** A button with a codicon and an accessible name. */
export function iconButton(codicon: string, label: string, onClick: (event: MouseEvent) => void): HTMLButtonElement {
  const button = el('button', 'icon-button');
  button.type = 'button';
  button.title = label;
  button.setAttribute('aria-label', label);
  button.append(icon(codicon));
  button.addEventListener('click', (event) => {
    event.stopPropagation();
    onClick(event);
  });
  return button;
}

/** Sets text only when it differs, so unchanged cells cost no layout. */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

export function toggleClass(node: Element, name: string, on: boolean): void {
  if (node.classList.contains(name) !== on) node.classList.toggle(name, on);
}

/** One rendered item of a keyed list: its element, and how to bring it up to date. */
export interface KeyedRow<T> {
  readonly element: HTMLElement;
  update(item: T): void;
}

/**
 * Keeps a container's children in step with a keyed list: rows are created once per key, updated in
 * place, moved only when the order changed, and removed when their key goes.
 */
export class KeyedList<T> {
  readonly #container: HTMLElement;
  readonly #create: (key: string, item: T) => KeyedRow<T>;
  readonly #rows = new Map<string, KeyedRow<T>>();

  constructor(container: HTMLElement, create: (key: string, item: T) => KeyedRow<T>) {
    this.#container = container;
    this.#create = create;
  }

  get size(): number {
    return this.#rows.size;
  }

  row(key: string): KeyedRow<T> | undefined {
    return this.#rows.get(key);
  }

  update(items: Iterable<readonly [string, T]>): void {
    const wanted = new Map<string, T>();
    for (const [key, item] of items) if (!wanted.has(key)) wanted.set(key, item);
    for (const [key, row] of this.#rows) {
      if (!wanted.has(key)) {
        row.element.remove();
        this.#rows.delete(key);
      }
    }
    let cursor: ChildNode | null = this.#container.firstChild;
    for (const [key, item] of wanted) {
      let row = this.#rows.get(key);
      if (!row) {
        row = this.#create(key, item);
        this.#rows.set(key, row);
      }
      row.update(item);
      if (row.element === cursor) cursor = cursor.nextSibling;
      else this.#container.insertBefore(row.element, cursor);
    }
  }
}
