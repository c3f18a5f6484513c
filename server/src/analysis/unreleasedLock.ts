// Rule `unreleased-lock`: `await lock.acquire()` whose `release()` is skipped when something in between
// throws or returns, or that has no release at all. Python's `with lock:` is `using`/try-finally here.
import ts from 'typescript';
import { enclosingFunction, peel, type FileModel } from './fileModel';
import { indentAt, reindent } from './edits';
import type { Finding, Fix } from './types';

export function unreleasedLock(model: FileModel): Finding[] {
  const findings: Finding[] = [];
  for (const node of model.nodes.expressionStatements) {
    const receiver = acquireReceiver(model, node.expression);
    if (receiver === undefined) continue;
    const finding = check(model, node, receiver);
    if (finding) findings.push(finding);
  }
  return findings;
}

/** `lock` in `await lock.acquire()` (a blocking acquire: with `block: false` or a timeout the caller must test the result). */
function acquireReceiver(model: FileModel, expression: ts.Expression): string | undefined {
  const e = peel(expression);
  if (!ts.isCallExpression(e) || !ts.isPropertyAccessExpression(e.expression) || e.expression.name.text !== 'acquire') return undefined;
  if (e.arguments.length > 0) return undefined;
  const kind = model.kindOf(e.expression.expression);
  if (kind !== undefined && kind !== 'lock' && kind !== 'shared') return undefined;
  return e.expression.expression.getText(model.sourceFile);
}

function isReleaseOf(node: ts.Node, receiver: string): boolean {
  const e = ts.isExpressionStatement(node) ? peel(node.expression) : node;
  return (
    ts.isCallExpression(e) &&
    ts.isPropertyAccessExpression(e.expression) &&
    e.expression.name.text === 'release' &&
    e.expression.expression.getText() === receiver
  );
}

function containsRelease(node: ts.Node, receiver: string): boolean {
  if (isReleaseOf(node, receiver)) return true;
  return ts.forEachChild(node, (c) => (ts.isFunctionLike(c) ? undefined : containsRelease(c, receiver) || undefined)) ?? false;
}

function isUsingOf(statement: ts.Statement, receiver: string): boolean {
  if (!ts.isVariableStatement(statement) || (statement.declarationList.flags & ts.NodeFlags.Using) === 0) return false;
  return statement.declarationList.declarations.some((d) => d.initializer !== undefined && peel(d.initializer).getText() === receiver);
}

/** Statements that cannot leave the block early: no call, await, throw, return, break or continue. */
function cannotThrow(statement: ts.Statement): boolean {
  const risky = (n: ts.Node): boolean =>
    ts.isCallExpression(n) ||
    ts.isNewExpression(n) ||
    ts.isAwaitExpression(n) ||
    ts.isThrowStatement(n) ||
    ts.isReturnStatement(n) ||
    ts.isBreakOrContinueStatement(n) ||
    ts.isYieldExpression(n) ||
    ts.isDeleteExpression(n) ||
    ts.isTaggedTemplateExpression(n) ||
    (ts.forEachChild(n, (c) => risky(c) || undefined) ?? false);
  return !risky(statement);
}

function check(model: FileModel, statement: ts.ExpressionStatement, receiver: string): Finding | undefined {
  const sf = model.sourceFile;
  const block = statement.parent;
  if (!ts.isBlock(block) && !ts.isSourceFile(block)) return undefined;
  // Inside `try { await lock.acquire(); … } finally { lock.release(); }` every path releases.
  for (let child: ts.Node = statement, p = statement.parent; p && !ts.isFunctionLike(p); child = p, p = p.parent) {
    if (ts.isTryStatement(p) && child === p.tryBlock && p.finallyBlock && containsRelease(p.finallyBlock, receiver)) return undefined;
  }
  const rest = block.statements.slice(block.statements.indexOf(statement) + 1);
  // `await lock.acquire(); using held = lock;` releases when the block ends, on every path.
  if (rest.some((s) => isUsingOf(s, receiver))) return undefined;
  const releaseAt = rest.findIndex((s) => containsRelease(s, receiver));
  const base = { code: 'unreleased-lock' as const, severity: 'warning' as const, start: statement.getStart(sf), end: statement.end };
  if (releaseAt === -1) {
    const releasedElsewhere = containsRelease(enclosingFunction(statement), receiver);
    if (releasedElsewhere) {
      return {
        ...base,
        message: `\`${receiver}\` is acquired here but released only on some paths: an exception or an early return leaves it held and every other process waiting on it. Release it in a \`finally\` block or with \`using\`.`,
        fixes: [],
      };
    }
    return {
      ...base,
      message: `\`${receiver}\` is acquired here and never released in this block: every other process waiting on it will wait forever. Release it with \`using\` (Python: \`with lock:\`) or in a \`finally\` block.`,
      fixes: [usingFix(sf, statement, receiver, [])],
    };
  }
  const release = rest[releaseAt]!;
  const between = rest.slice(0, releaseAt);
  if (between.every(cannotThrow) && isReleaseOf(release, receiver)) return undefined;
  if (ts.isTryStatement(release) && release.finallyBlock && containsRelease(release.finallyBlock, receiver) && between.length === 0) return undefined;
  const fixes: Fix[] = [];
  if (isReleaseOf(release, receiver) && between.length > 0) {
    const start = between[0]!.getStart(sf);
    const indent = indentAt(sf.text, start);
    const body = reindent(sf.text.slice(start, between[between.length - 1]!.end), '  ');
    fixes.push({
      title: `Release \`${receiver}\` in a \`finally\` block`,
      isPreferred: true,
      edits: [{ start, end: release.end, newText: `try {\n${indent}  ${body}\n${indent}} finally {\n${indent}  ${release.getText(sf)}\n${indent}}` }],
    });
    if (releaseAt === rest.length - 1) fixes.push(usingFix(sf, statement, receiver, [release]));
  }
  return {
    ...base,
    message: `If anything between \`${receiver}.acquire()\` and \`release()\` throws or returns, \`${receiver}\` stays held and every other process waiting on it waits forever. Release it in a \`finally\` block or with \`using\` (Python: \`with lock:\`).`,
    fixes,
  };
}

/** `await lock.acquire(); using _held = lock;`: released when the block ends, on every path. */
function usingFix(sf: ts.SourceFile, acquire: ts.Statement, receiver: string, releases: ts.Statement[]): Fix {
  const indent = indentAt(sf.text, acquire.getStart(sf));
  const name = `_${receiver.replace(/^this\./, '').replace(/\W/g, '_')}Held`;
  return {
    title: `Release \`${receiver}\` with \`using\` when the block ends`,
    isPreferred: releases.length === 0,
    edits: [
      { start: acquire.end, end: acquire.end, newText: `\n${indent}using ${name} = ${receiver};` },
      ...releases.map((r) => ({ start: lineStart(sf.text, r.getStart(sf)), end: lineEnd(sf.text, r.end), newText: '' })),
    ],
  };
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1);
}

function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl;
}
