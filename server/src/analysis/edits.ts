// Text edits shared by several quick fixes: wrapping statements in the main guard, making the runtime's
// `isMainProcess` reachable, re-indenting. Pure string work on offsets. Never imports `vscode`.
import ts from 'typescript';
import type { Edit } from './types';
import type { FileModel } from './fileModel';

/** The indentation of the line an offset sits on. */
export function indentAt(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

/** Adds `extra` to every non-empty line of a block of text after the first. */
export function reindent(block: string, extra: string): string {
  return block
    .split('\n')
    .map((line, i) => (i === 0 || line.trim() === '' ? line : extra + line))
    .join('\n');
}

/**
 * The name to call `isMainProcess` by, and the edit that imports it when the file does not yet:
 * added to an existing `import { … } from 'forkscope'`, else a new import line.
 */
export function isMainProcessReference(model: FileModel): { name: string; edits: Edit[] } {
  const spelled = model.spell('isMainProcess');
  if (spelled !== undefined) return { name: spelled, edits: [] };
  const sf = model.sourceFile;
  for (const s of sf.statements) {
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier) || s.moduleSpecifier.text !== 'forkscope') continue;
    const bindings = s.importClause?.namedBindings;
    if (bindings && ts.isNamedImports(bindings) && !s.importClause?.isTypeOnly) {
      const last = bindings.elements[bindings.elements.length - 1];
      if (last) return { name: 'isMainProcess', edits: [{ start: last.end, end: last.end, newText: ', isMainProcess' }] };
    }
  }
  const firstNonImport = sf.statements.find((s) => !ts.isImportDeclaration(s));
  const lastImport = [...sf.statements].reverse().find((s) => ts.isImportDeclaration(s));
  const at = lastImport ? lastImport.end : firstNonImport ? firstNonImport.getStart(sf) : 0;
  const newText = lastImport ? "\nimport { isMainProcess } from 'forkscope';" : "import { isMainProcess } from 'forkscope';\n";
  return { name: 'isMainProcess', edits: [{ start: at, end: at, newText }] };
}
