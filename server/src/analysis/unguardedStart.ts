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
  for (const node of model.nodes.calls) {
    let what: string | undefined;
    const kind = model.creates(node);
    if (kind !== undefined && STARTS.has(kind)) what = `${LABEL[kind]} is created`;
    const callee = peel(node.expression);
    if (what === undefined && ts.isCallExpression(node) && ts.isIdentifier(callee) && startingFunctions.has(callee.text)) {
      what = `\`${callee.text}()\` starts processes and is called`;
    }
    if (what === undefined || !runsWhenLoaded(node) || isGuarded(model, node)) continue;
    // One finding per statement: `new Pool()` inside a flagged `main()` call is the same mistake.
    if (findings.some((f) => f.start <= node.getStart(sf) && node.end <= f.end)) continue;
    findings.push({
      code: 'unguarded-start',
      severity: 'error',
      message: `${capitalise(what)} when this module loads. Every child process re-imports the main module, so it would start processes of its own. Put it inside \`if (isMainProcess()) { … }\` (Python: \`if __name__ == "__main__":\`).`,
      start: node.getStart(sf),
      end: node.end,
      fixes: wrapFix(model, node),
    });
  }
  return findings;
}

function capitalise(text: string): string {
  return text[0]!.toUpperCase() + text.slice(1);
}

/** True when a node runs as the module loads: not inside a function or a class body. */
function runsWhenLoaded(node: ts.Node): boolean {
  for (let n = node.parent; n && !ts.isSourceFile(n); n = n.parent) {
    if (isFunctionBoundary(n) || ts.isClassLike(n)) return false;
  }
  return true;
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
  for (const name of bodies.keys()) direct.set(name, { starts: false, calls: new Set() });
  const ownerOf = new Map<ts.Node, string>();
  for (const [name, body] of bodies) ownerOf.set(body, name);
  for (const node of model.nodes.calls) {
    const kind = model.creates(node);
    const callee = peel(node.expression);
    const callsLocal = ts.isCallExpression(node) && ts.isIdentifier(callee) && bodies.has(callee.text);
    if (!(kind !== undefined && STARTS.has(kind)) && !callsLocal) continue;
    // The top-level function whose own body (not a nested function's) holds the call.
    let owner: string | undefined;
    for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
      owner = ownerOf.get(n);
      if (owner !== undefined || isFunctionBoundary(n)) break;
    }
    if (owner === undefined || isGuarded(model, node)) continue;
    const info = direct.get(owner)!;
    if (kind !== undefined && STARTS.has(kind)) info.starts = true;
    if (callsLocal) info.calls.add((callee as ts.Identifier).text);
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
  if (
    ts.isFunctionDeclaration(s) ||
    ts.isClassDeclaration(s) ||
    ts.isInterfaceDeclaration(s) ||
    ts.isTypeAliasDeclaration(s) ||
    ts.isEnumDeclaration(s) ||
    ts.isModuleDeclaration(s)
  )
    return false;
  if (ts.isVariableStatement(s) && hasModifier(s, ts.SyntaxKind.ExportKeyword)) return false;
  return true;
}
