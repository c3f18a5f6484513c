// Names for the objects a program creates without a label: the binding its construction site declares
// (`const accounts = new Lock()` → "accounts", `const [a, b] = Pipe()` → "a ⇄ b"), else the kind and a
// short number ("Lock 3"). The hub reads the source line at the reported site, so the runtime's hot path
// pays nothing; files are read once each, bounded, and a file that cannot be read just gives no name.
import { readFileSync, statSync } from 'node:fs';
import { OBJECT_KINDS, type ObjectCreated, type ObjectKind } from '../runtime/src/protocol';

const MAX_FILES = 64;
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_LINE_CHARS = 2_000;

/**
 * Kinds never named from a binding here: a Manager and a Channel arrive labelled (by the runtime, by the preload
 * that saw the IPC), and a Pool keeps its kind and number.
 */
const UNNAMED: readonly ObjectKind[] = ['Pool', 'Manager', 'Channel'];
/** Constructors whose call a binding can name: the object's kind, optionally behind a member chain (`ctx.Queue`, `mp.Lock`). */
const NAMEABLE: ReadonlySet<ObjectKind> = new Set(OBJECT_KINDS.filter((kind) => !UNNAMED.includes(kind)));

const IDENT = '[A-Za-z_$][\\w$]*';
/** `const x`, `let x`, `var x`, `this.x`, `this.#x`, `x` (a class field or an assignment), `x:` (an object literal's property). */
const SIMPLE = new RegExp(`(?:\\b(?:const|let|var)\\s+|\\bthis\\.#?|#|(?:^|[\\s;{(,]))(${IDENT})\\s*(?:!?\\s*:\\s*[^=;]+?)?\\s*(?:=|:)\\s*$`);
const ARRAY = new RegExp(`\\b(?:const|let|var)\\s+\\[\\s*(${IDENT})\\s*,\\s*(${IDENT})\\s*\\]\\s*(?::[^=;]+?)?=\\s*$`);
const KEYWORDS = new Set(['return', 'await', 'new', 'yield', 'typeof', 'void', 'case', 'default', 'else', 'in', 'of', 'do']);

/** The binding that a construction of `kind` on `line` declares: the one nearest before `column` (1-based) when the line has several. */
export function bindingName(line: string, kind: ObjectKind, column?: number): string | undefined {
  if (!NAMEABLE.has(kind) || line.length > MAX_LINE_CHARS) return undefined;
  // Every `new? a.b.Kind<T>(` on the line, by where its expression starts.
  const call = new RegExp(`(?:\\bnew\\s+)?(?:${IDENT}\\s*\\.\\s*)*\\b${kind}\\s*(?:<[^()]*>)?\\s*\\(`, 'g');
  const starts: number[] = [];
  for (let m = call.exec(line); m; m = call.exec(line)) starts.push(m.index);
  if (starts.length === 0) return undefined;
  const at = column === undefined ? starts[0]! : (starts.filter((s) => s <= column - 1 + kind.length + 5).pop() ?? starts[0]!);
  const before = line
    .slice(0, at)
    .replace(/\bawait\s+$/, '')
    .replace(/\s+$/, ' ');
  if (kind === 'Pipe') {
    const pair = ARRAY.exec(before);
    if (pair) return `${pair[1]} ⇄ ${pair[2]}`;
  }
  const simple = SIMPLE.exec(before);
  if (!simple || KEYWORDS.has(simple[1]!)) return undefined;
  return simple[1];
}

export class ObjectNamer {
  readonly #files = new Map<string, string[] | null>();
  readonly #numbers = new Map<ObjectKind, number>();
  readonly #used = new Map<string, number>();

  /** Gives `event` a label when it has none (in place); never throws. */
  name(event: ObjectCreated): void {
    if (event.label !== undefined) return;
    let label: string | undefined;
    try {
      const site = event.site;
      const text = site ? this.#line(site.file, site.line) : undefined;
      label = text === undefined ? undefined : bindingName(text, event.kind, site?.column);
    } catch {
      label = undefined;
    }
    if (label !== undefined) {
      // The same binding made twice (a function called twice, two processes): "lock", "lock 2".
      const seen = (this.#used.get(label) ?? 0) + 1;
      this.#used.set(label, seen);
      event.label = seen === 1 ? label : `${label} ${seen}`;
      return;
    }
    const n = (this.#numbers.get(event.kind) ?? 0) + 1;
    this.#numbers.set(event.kind, n);
    event.label = `${event.kind} ${n}`;
  }

  #line(file: string, line: number): string | undefined {
    let lines = this.#files.get(file);
    if (lines === undefined) {
      if (this.#files.size >= MAX_FILES) return undefined;
      lines = null;
      try {
        if (statSync(file).size <= MAX_FILE_BYTES) lines = readFileSync(file, 'utf8').split(/\r?\n/);
      } catch {
        lines = null;
      }
      this.#files.set(file, lines);
    }
    return lines?.[line - 1];
  }
}
