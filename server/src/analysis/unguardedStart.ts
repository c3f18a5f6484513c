// Rule `unguarded-start`: a Process, Pool, executor or Manager created when the module loads, outside an
// `isMainProcess()` guard. Every child re-imports the main module, so it would start processes too.
import ts from 'typescript';
import { hasModifier, isFunctionBoundary, peel, type FileModel } from './fileModel';
import { indentAt, isMainProcessReference, reindent } from './edits';
import { isGuarded } from './sites';
import type { Finding, Fix } from './types';

const STARTS = new Set(['process', 'pool', 'executor', 'manager']);
const LABEL = { process: 'a Process', pool: 'a Pool', executor: 'a ProcessPoolExecutor', manager: 'a Manager' } as Record<string, string>;

export function unguardedStart(model: FileModel): Finding[] {
  const sf = model.sourceFile;
  const startingFunctions = functionsThatStart(model);
  const findings: Finding[] = [];
  const visit = (node: ts.Node): void => {
    if (isFunctionBoundary(node) || ts.isClassLike(node)) return;
    if (isGuarded(model, node)) return;
    let what: string | undefined;
    if (ts.isNewExpression(node) || ts.isCallExpression(node)) {
      const kind = model.creates(node);
      if (kind !== undefined && STARTS.has(kind)) what = `${LABEL[kind]} is created`;
      const callee = peel(node.expression);
      if (what === undefined && ts.isCallExpression(node) && ts.isIdentifier(callee) && startingFunctions.has(callee.text)) {
        what = `\`${callee.text}()\` starts processes and is called`;
      }
    }
    if (what !== undefined) {
      findings.push({
        code: 'unguarded-start',
        severity: 'error',
        message: `${what} when this module loads. Every child process re-imports the main module, so it would start processes of its own. Put it inside \`if (isMainProcess()) { … }\` (Python: \`if __name__ == "__main__":\`).`,
        start: node.getStart(sf),
        end: node.end,
        fixes: wrapFix(model, node),
      });
      return;
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(sf, visit);
  return findings;
}

/** Top-level functions of this file whose own bodies (or callees here) create processes when called. */
function functionsThatStart(model: FileModel): Set<string> {
  const bodies = new Map<string, ts.Node>();
  for (const s of model.sourceFile.statements) {
    if (ts.isFunctionDeclaration(s) && s.name && s.body) bodies.set(s.name.text, s.body);
    if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) {
        const init = d.initializer && peel(d.initializer);
        if (ts.isIdentifier(d.name) && init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) bodies.set(d.name.text, init.body);
      }
    }
  }
  const direct = new Map<string, { starts: boolean; calls: Set<string> }>();
  for (const [name, body] of bodies) {
    const info = { starts: false, calls: new Set<string>() };
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && node !== body.parent) return;
      if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && !isGuarded(model, node)) {
        const kind = model.creates(node);
        if (kind !== undefined && STARTS.has(kind)) info.starts = true;
        const callee = peel(node.expression);
        if (ts.isCallExpression(node) && ts.isIdentifier(callee) && bodies.has(callee.text)) info.calls.add(callee.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(body);
    direct.set(name, info);
  }
  const starting = new Set<string>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const [name, info] of direct) {
      if (starting.has(name)) continue;
      if (info.starts || [...info.calls].some((c) => starting.has(c))) {
        starting.add(name);
        changed = true;
      }
    }
  }
  return starting;
}

/** Wraps the top-level statement holding `node`, and the run of plain statements after it, in the guard. */
function wrapFix(model: FileModel, node: ts.Node): Fix[] {
  const sf = model.sourceFile;
  let statement: ts.Node = node;
  while (statement.parent && !ts.isSourceFile(statement.parent)) statement = statement.parent;
  if (!ts.isSourceFile(statement.parent)) return [];
  const statements = sf.statements;
  const first = statements.indexOf(statement as ts.Statement);
  let last = first;
  while (last + 1 < statements.length && isPlainStatement(statements[last + 1]!)) last++;
  if (!isPlainStatement(statements[first]!)) return [];
  const start = statements[first]!.getStart(sf);
  const end = statements[last]!.end;
  const indent = indentAt(sf.text, start);
  const guard = isMainProcessReference(model);
  const body = reindent(sf.text.slice(start, end), '  ');
  return [
    {
      title: `Wrap in \`if (${guard.name}())\``,
      isPreferred: true,
      edits: [...guard.edits, { start, end, newText: `if (${guard.name}()) {\n${indent}  ${body}\n${indent}}` }],
    },
  ];
}

/** Statements that can move into a block without changing what the module exports or declares for others. */
function isPlainStatement(s: ts.Statement): boolean {
  if (ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s) || ts.isExportDeclaration(s) || ts.isExportAssignment(s)) return false;
  if (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isEnumDeclaration(s) || ts.isModuleDeclaration(s)) return false;
  if (ts.isVariableStatement(s) && hasModifier(s, ts.SyntaxKind.ExportKeyword)) return false;
  return true;
}
