// Rule `unclosed-pool`: a Pool, executor or Manager that is never closed keeps its worker processes
// alive until exit (Python warns at exit too). The fix is `await using` (Python: `with Pool() as p:`).
import ts from 'typescript';
import { enclosingFunction, hasModifier, type FileModel } from './fileModel';
import type { Finding, Fix } from './types';

const CLOSERS = new Set(['close', 'terminate', 'shutdown', 'join']);
const LABEL = { pool: 'Pool', executor: 'ProcessPoolExecutor', manager: 'Manager' } as Record<string, string>;

export function unclosedPool(model: FileModel): Finding[] {
  const sf = model.sourceFile;
  const findings: Finding[] = [];
  for (const node of model.nodes.variables) {
    if (!ts.isIdentifier(node.name) || !node.initializer || !ts.isVariableDeclarationList(node.parent)) continue;
    const kind = model.creates(node.initializer);
    const list = node.parent;
    const isUsing = (list.flags & ts.NodeFlags.Using) !== 0;
    if (kind === undefined || !LABEL[kind] || isUsing || isExportedStatement(list) || isHandedOn(model, node.name)) continue;
    findings.push({
      code: 'unclosed-pool',
      severity: 'warning',
      message: `This ${LABEL[kind]} is never closed, so its worker processes stay alive until the program exits. Declare it with \`await using\` (Python: \`with ${LABEL[kind]}(…) as …:\`) or call \`${kind === 'executor' || kind === 'manager' ? 'shutdown' : 'close'}()\`.`,
      start: node.name.getStart(sf),
      end: node.name.end,
      fixes: awaitUsingFix(sf, node, list),
    });
  }
  return findings;
}

/** True when the object is closed, disposed, returned, stored or passed on: someone else may close it. */
function isHandedOn(model: FileModel, name: ts.Identifier): boolean {
  const text = name.text;
  const sf = model.sourceFile;
  let handed = false;
  const visit = (node: ts.Node): void => {
    if (handed) return;
    if (ts.isIdentifier(node) && node.text === text && node !== name) {
      const parent = node.parent;
      if (ts.isPropertyAccessExpression(parent) && parent.expression === node && CLOSERS.has(parent.name.text)) handed = true;
      else if (ts.isElementAccessExpression(parent) && parent.expression === node && /dispose/i.test(parent.argumentExpression.getText(sf))) handed = true;
      else if (ts.isReturnStatement(parent) || ts.isCallExpression(parent) || ts.isNewExpression(parent) || ts.isArrayLiteralExpression(parent))
        handed = !isCalleeOf(node);
      else if (ts.isShorthandPropertyAssignment(parent) || ts.isPropertyAssignment(parent) || ts.isExportSpecifier(parent)) handed = true;
      else if (ts.isBinaryExpression(parent) && parent.right === node) handed = true;
      else if (ts.isVariableDeclaration(parent) && parent.initializer === node) handed = true;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return handed;
}

function isCalleeOf(node: ts.Node): boolean {
  return ts.isCallExpression(node.parent) && node.parent.expression === node;
}

function isExportedStatement(list: ts.VariableDeclarationList): boolean {
  return ts.isVariableStatement(list.parent) && hasModifier(list.parent, ts.SyntaxKind.ExportKeyword);
}

/** `const pool = new Pool()` → `await using pool = new Pool()`, where an `await` is allowed. */
function awaitUsingFix(sf: ts.SourceFile, decl: ts.VariableDeclaration, list: ts.VariableDeclarationList): Fix[] {
  if (list.declarations.length !== 1 || !ts.isVariableStatement(list.parent)) return [];
  const fn = enclosingFunction(decl);
  const canAwait = ts.isSourceFile(fn) || (ts.getCombinedModifierFlags(fn as ts.Declaration) & ts.ModifierFlags.Async) !== 0;
  if (!canAwait) return [];
  const keyword = list.getFirstToken(sf);
  if (!keyword) return [];
  return [{ title: 'Close it with `await using`', isPreferred: true, edits: [{ start: keyword.getStart(sf), end: keyword.end, newText: 'await using' }] }];
}
