// Turns analyses into LSP answers: diagnostics with doc links, quick fixes, code lenses over the guarded
// main block, and hovers. Offsets become positions here and only here. Never imports `vscode`.
import ts from 'typescript';
import { CodeActionKind, DiagnosticSeverity, type CodeAction, type CodeLens, type Diagnostic, type Hover, type Position } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { Commands } from '../../src/contributions';
import type { Analysis } from './analysis/analyze';
import type { Finding, Severity } from './analysis/types';
import { docLink } from './docsLinks';
import { hoverMarkdown, methodHoverMarkdown } from './hoverDocs';

export const SOURCE = 'forkscope';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** `docsUrl`: the diagnostics page each code links to (see docsLinks.ts); without one, no link. */
export function diagnosticsOf(document: TextDocument, analysis: Analysis, docsUrl: string | undefined): Diagnostic[] {
  return analysis.findings.map((f) => ({
    range: { start: document.positionAt(f.start), end: document.positionAt(f.end) },
    severity: SEVERITY[f.severity],
    source: SOURCE,
    code: f.code,
    ...(docsUrl === undefined ? {} : { codeDescription: { href: docLink(docsUrl, f.code) } }),
    message: f.message,
  }));
}

/** Quick fixes for the Forkscope diagnostics the client sends back, matched to findings by code and range. */
export function codeActionsOf(document: TextDocument, analysis: Analysis, diagnostics: Diagnostic[]): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const diagnostic of diagnostics) {
    if (diagnostic.source !== SOURCE) continue;
    const start = document.offsetAt(diagnostic.range.start);
    const end = document.offsetAt(diagnostic.range.end);
    const finding = analysis.findings.find((f: Finding) => f.code === diagnostic.code && f.start === start && f.end === end);
    for (const fix of finding?.fixes ?? []) {
      actions.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        isPreferred: fix.isPreferred ?? false,
        edit: {
          changes: {
            [document.uri]: fix.edits.map((e) => ({ range: { start: document.positionAt(e.start), end: document.positionAt(e.end) }, newText: e.newText })),
          },
        },
      });
    }
  }
  return actions;
}

/** `Debug all processes | Run as single process | Trace` above each `if (isMainProcess())` block. */
export function codeLensesOf(document: TextDocument, analysis: Analysis): CodeLens[] {
  return analysis.mainBlocks.flatMap((block) => {
    const start = document.positionAt(block.start);
    const range = { start, end: start };
    return [
      { range, command: { title: 'Debug all processes', command: Commands.debugAllProcesses, arguments: [document.uri] } },
      { range, command: { title: 'Run as single process', command: Commands.runSingleProcess, arguments: [document.uri] } },
      { range, command: { title: 'Trace', command: Commands.traceProgram, arguments: [document.uri] } },
    ];
  });
}

/** The runtime's docs for the name under the cursor, when it is one the file imports from `forkscope`. */
export function hoverOf(document: TextDocument, analysis: Analysis, position: Position): Hover | null {
  const model = analysis.model;
  if (!model) return null;
  const offset = document.offsetAt(position);
  const token = tokenAt(model.sourceFile, offset);
  if (!token || !ts.isIdentifier(token)) return null;
  const parent = token.parent;
  let markdown: string | undefined;
  if (ts.isPropertyAccessExpression(parent) && parent.name === token) {
    const name = model.exportName(parent);
    const kind = model.kindOf(parent.expression);
    markdown = name !== undefined ? hoverMarkdown(name) : kind !== undefined ? methodHoverMarkdown(kind, token.text) : undefined;
  } else {
    const name = ts.isImportSpecifier(parent) ? (parent.propertyName ?? parent.name).text : model.exportName(token);
    markdown = name === undefined ? undefined : hoverMarkdown(name);
  }
  if (!markdown) return null;
  return {
    contents: { kind: 'markdown', value: markdown },
    range: { start: document.positionAt(token.getStart(model.sourceFile)), end: document.positionAt(token.end) },
  };
}

function tokenAt(sf: ts.SourceFile, offset: number): ts.Node | undefined {
  let found: ts.Node | undefined;
  const visit = (node: ts.Node): void => {
    if (offset < node.getStart(sf) || offset > node.end) return;
    found = node;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}
