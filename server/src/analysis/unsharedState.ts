// Rule `unshared-state`: a target that writes module-level variables (or a Process subclass's `run()` that
// writes its own fields) changes the child's copy only; the parent never sees it. Never imports `vscode`.
import ts from 'typescript';
import { peel, type FileModel } from './fileModel';
import type { TargetSite } from './sites';
import type { Finding } from './types';

const MUTATORS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill', 'copyWithin', 'set', 'add', 'delete', 'clear']);
const ASSIGNMENTS = new Set([
  ts.SyntaxKind.EqualsToken,
  ts.SyntaxKind.PlusEqualsToken,
  ts.SyntaxKind.MinusEqualsToken,
  ts.SyntaxKind.AsteriskEqualsToken,
  ts.SyntaxKind.SlashEqualsToken,
  ts.SyntaxKind.PercentEqualsToken,
  ts.SyntaxKind.AsteriskAsteriskEqualsToken,
  ts.SyntaxKind.BarEqualsToken,
  ts.SyntaxKind.AmpersandEqualsToken,
  ts.SyntaxKind.CaretEqualsToken,
  ts.SyntaxKind.LessThanLessThanEqualsToken,
  ts.SyntaxKind.GreaterThanGreaterThanEqualsToken,
  ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken,
  ts.SyntaxKind.BarBarEqualsToken,
  ts.SyntaxKind.AmpersandAmpersandEqualsToken,
  ts.SyntaxKind.QuestionQuestionEqualsToken,
]);
const SHARE = 'Share it through a `Value`, an `Array`, a `Manager` or a `Queue`, or return it as the result.';

export function unsharedState(model: FileModel, sites: TargetSite[]): Finding[] {
  const sf = model.sourceFile;
  const findings: Finding[] = [];
  const seen = new Set<ts.Node>();
  for (const site of sites) {
    const body = targetBody(model, site.target);
    if (!body || seen.has(body)) continue;
    seen.add(body);
    const writes = writesIn(body);
    const writeRoots = new Set(writes.map((w) => rootOf(w.target)));
    for (const write of writes) {
      const root = rootOf(write.target);
      if (!root || !ts.isIdentifier(root)) continue;
      const decl = model.declarationOf(root);
      if (!decl?.isModuleLevel || decl.kind !== 'variable') continue;
      if (decl.initializer && model.creates(decl.initializer) !== undefined) continue;
      // A target that also reads its copy uses it on purpose (a per-process cache or counter, a demo of
      // copies); one that only writes can only mean it for someone else, who will never see it.
      if (readsElsewhere(body, decl.name, writeRoots)) continue;
      findings.push({
        code: 'unshared-state',
        severity: 'warning',
        message: `\`${root.text}\` is module-level state: each process has its own copy, so this write in a child is never seen by the parent or the other workers. ${SHARE}`,
        start: write.node.getStart(sf),
        end: write.node.end,
        fixes: [],
      });
    }
  }
  // A Process subclass's `run()` runs in the child, on the child's copy of the object.
  for (const node of model.nodes.classes) {
    if (node.name && model.processClasses.has(node.name.text)) {
      const run = node.members.find((m): m is ts.MethodDeclaration => ts.isMethodDeclaration(m) && m.name.getText() === 'run' && m.body !== undefined);
      if (run?.body) {
        for (const write of writesIn(run.body)) {
          const root = rootOf(write.target);
          if (!root || root.kind !== ts.SyntaxKind.ThisKeyword || !ts.isPropertyAccessExpression(write.target)) continue;
          const field = write.target.name.text;
          if (model.kindOf(write.target) !== undefined) continue;
          findings.push({
            code: 'unshared-state',
            severity: 'warning',
            message: `\`run()\` runs in the child on its own copy of this object, so \`this.${field}\` written here is never seen by the parent. ${SHARE}`,
            start: write.node.getStart(sf),
            end: write.node.end,
            fixes: [],
          });
        }
      }
    }
  }
  return findings;
}

/** The body of a target defined in this file, if the expression names one. */
function targetBody(model: FileModel, target: ts.Expression | undefined): ts.Node | undefined {
  if (!target) return undefined;
  const e = peel(target);
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return e.body;
  if (!ts.isIdentifier(e)) return undefined;
  const decl = model.declarationOf(e);
  if (decl?.kind === 'function' && ts.isFunctionDeclaration(decl.node)) return decl.node.body;
  if (decl?.initializer && (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer))) return decl.initializer.body;
  return undefined;
}

interface Write {
  /** The whole expression that writes. */
  node: ts.Expression;
  /** What is written to (`counter`, `state.total`, `results` for `results.push(…)`). */
  target: ts.Expression;
}

/** Writes in a function body, including nested callbacks, but not in names the body itself declares. */
function writesIn(body: ts.Node): Write[] {
  const out: Write[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isBinaryExpression(node) && ASSIGNMENTS.has(node.operatorToken.kind)) out.push({ node, target: node.left });
    if (
      (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) &&
      (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)
    ) {
      out.push({ node, target: node.operand });
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && MUTATORS.has(node.expression.name.text)) {
      out.push({ node, target: node.expression.expression });
    }
    ts.forEachChild(node, visit);
  };
  visit(body);
  return out;
}

/** True when the body mentions the variable other than as the thing written. */
function readsElsewhere(body: ts.Node, name: ts.Identifier, writeRoots: Set<ts.Node | undefined>): boolean {
  const visit = (node: ts.Node): boolean => {
    if (ts.isIdentifier(node) && node.text === name.text && !writeRoots.has(node) && !isPropertyName(node)) return true;
    return ts.forEachChild(node, visit) ?? false;
  };
  return visit(body);
}

function isPropertyName(node: ts.Identifier): boolean {
  const p = node.parent;
  return (ts.isPropertyAccessExpression(p) && p.name === node) || (ts.isPropertyAssignment(p) && p.name === node);
}

function rootOf(e: ts.Expression): ts.Expression | undefined {
  let x = peel(e);
  while (ts.isPropertyAccessExpression(x) || ts.isElementAccessExpression(x)) x = peel(x.expression);
  return ts.isIdentifier(x) || x.kind === ts.SyntaxKind.ThisKeyword ? x : undefined;
}
