// Rule `tiny-chunks` (a hint): mapping with `chunksize: 1` sends every item in its own round trip;
// for small tasks the default chunk size (Python's heuristic) is many times faster. Quiet unless the work
// is evidently tiny (a one-expression function of this file) or the items are evidently many (≥ 1,000).
import ts from 'typescript';
import { peel, type FileModel } from './fileModel';
import { optionProps, type TargetSite } from './sites';
import type { Finding } from './types';

export function tinyChunks(model: FileModel, sites: TargetSite[]): Finding[] {
  const text = model.sourceFile.text;
  const findings: Finding[] = [];
  for (const site of sites) {
    if (!/\.(map|mapAsync|imap|imapUnordered|starmap|starmapAsync)$/.test(site.api) || !ts.isCallExpression(site.call)) continue;
    for (const arg of site.call.arguments.slice(1)) {
      const e = peel(arg);
      if (!ts.isObjectLiteralExpression(e)) continue;
      const value = optionProps(e).get('chunksize');
      if (!value || !ts.isNumericLiteral(value) || Number(value.text) !== 1) continue;
      const items = itemCount(model, site.call.arguments[1]);
      if (items !== undefined ? items < MANY : !isTinyFunction(model, site.target)) continue;
      const property = value.parent;
      const fixes = [];
      if (ts.isPropertyAssignment(property)) {
        const isOnly = e.properties.length === 1;
        const start = isOnly ? arg.getStart() : property.getStart();
        let end = isOnly ? arg.end : property.end;
        if (!isOnly && text[end] === ',') end++;
        while (!isOnly && text[end] === ' ') end++;
        // With no other option left, drop the argument and its comma too.
        const argStart = isOnly ? text.lastIndexOf(',', start) : start;
        fixes.push({ title: 'Use the default chunk size', isPreferred: true, edits: [{ start: argStart, end, newText: '' }] });
      }
      findings.push({
        code: 'tiny-chunks' as const,
        severity: 'hint' as const,
        message: `\`chunksize: 1\` sends every item to a worker in its own message. For small tasks that round trip costs more than the work; the default chunk size batches items (Python: \`chunksize\`).`,
        start: property.getStart(),
        end: property.end,
        fixes,
      });
    }
  }
  return findings;
}

const MANY = 1000;

/** How many items an iterable literal evidently holds: `[…]`, `Array.from({ length: n })`, `new Array(n)`, or a variable holding one. */
function itemCount(model: FileModel, iterable: ts.Expression | undefined, depth = 0): number | undefined {
  if (!iterable) return undefined;
  const e = peel(iterable);
  if (ts.isArrayLiteralExpression(e)) return e.elements.some(ts.isSpreadElement) ? undefined : e.elements.length;
  if ((ts.isNewExpression(e) || ts.isCallExpression(e)) && e.expression.getText() === 'Array' && e.arguments?.length === 1) {
    const [n] = e.arguments;
    return n && ts.isNumericLiteral(n) ? Number(n.text) : undefined;
  }
  if (ts.isCallExpression(e) && e.expression.getText() === 'Array.from' && e.arguments[0] && ts.isObjectLiteralExpression(e.arguments[0])) {
    const length = optionProps(e.arguments[0]).get('length');
    return length && ts.isNumericLiteral(length) ? Number(length.text) : undefined;
  }
  if (ts.isIdentifier(e) && depth === 0) {
    const decl = model.declarationOf(e);
    return decl?.kind === 'variable' && decl.initializer ? itemCount(model, decl.initializer, 1) : undefined;
  }
  return undefined;
}

/** A function of this file whose whole body is one expression with no calls, awaits or loops: `x => x * x`. */
function isTinyFunction(model: FileModel, target: ts.Expression | undefined): boolean {
  if (!target) return false;
  let e = peel(target);
  if (ts.isIdentifier(e)) {
    const decl = model.declarationOf(e);
    if (!decl) return false;
    if (ts.isFunctionDeclaration(decl.node) && decl.node.body) return isTinyBody(decl.node.body);
    if (!decl.initializer) return false;
    e = decl.initializer;
  }
  return (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) && isTinyBody(e.body);
}

function isTinyBody(body: ts.ConciseBody): boolean {
  let expression: ts.Node | undefined = body;
  if (ts.isBlock(body)) {
    const [only] = body.statements;
    expression = body.statements.length === 1 && only && ts.isReturnStatement(only) ? only.expression : undefined;
  }
  if (!expression) return false;
  const heavy = (n: ts.Node): boolean =>
    ts.isCallExpression(n) ||
    ts.isNewExpression(n) ||
    ts.isAwaitExpression(n) ||
    ts.isIterationStatement(n, false) ||
    (ts.forEachChild(n, (c) => heavy(c) || undefined) ?? false);
  return !heavy(expression);
}
