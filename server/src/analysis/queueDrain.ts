// Rules `join-before-drain` and `get-after-producers-ended`: the main process joins a child before taking
// what the child put on a queue (CPython's classic deadlock), then waits on a queue with no timeout after
// every producer it started has been joined. Never imports `vscode`.
import ts from 'typescript';
import { enclosingFunction, peel, type FileModel } from './fileModel';
import { optionProps, type TargetSite } from './sites';
import type { Finding } from './types';

export function queueDrain(model: FileModel, sites: TargetSite[]): Finding[] {
  const sf = model.sourceFile;
  // Queues handed to a child process (the child may fill them), and what holds each such process: the
  // variable or array it went into, or `undefined` when the analysis cannot tell (then any join counts).
  const holders = new Map<string, Set<string | undefined>>();
  for (const site of sites) {
    if (!site.api.startsWith('new ') || site.api.endsWith('initializer')) continue;
    for (const arg of site.args) {
      const e = peel(arg);
      if (!ts.isIdentifier(e) || model.kindOf(e) !== 'queue') continue;
      const set = holders.get(e.text) ?? new Set();
      set.add(holderOf(site.call));
      holders.set(e.text, set);
    }
  }
  if (holders.size === 0) return [];
  // `const p = new Process(…); procs.push(p)`: joining through `procs` joins `p` too.
  for (const node of model.nodes.calls) {
    if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression) || node.expression.name.text !== 'push') continue;
    const pushed = new Set(node.arguments.map((a) => peel(a).getText()));
    for (const set of holders.values()) {
      if ([...set].some((h) => h !== undefined && pushed.has(h))) set.add(node.expression.expression.getText());
    }
  }

  // Source-ordered joins of processes and gets of those queues, per function.
  const joins = new Map<ts.Node, { call: ts.CallExpression; holder: string | undefined }[]>();
  const gets: { call: ts.CallExpression; queue: string; fn: ts.Node }[] = [];
  for (const node of model.nodes.calls) {
    if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression)) continue;
    const receiver = peel(node.expression.expression);
    const method = node.expression.name.text;
    if (method === 'join' && isProcessReceiver(model, receiver)) {
      const fn = enclosingFunction(node);
      joins.set(fn, [...(joins.get(fn) ?? []), { call: node, holder: receiverHolder(model, receiver) }]);
    }
    if (method === 'get' && ts.isIdentifier(receiver) && holders.has(receiver.text)) {
      gets.push({ call: node, queue: receiver.text, fn: enclosingFunction(node) });
    }
  }

  const findings: Finding[] = [];
  const flaggedJoins = new Set<ts.Node>();
  for (const get of gets) {
    const producers = holders.get(get.queue)!;
    const earlierJoins = (joins.get(get.fn) ?? [])
      .filter((j) => producers.has(undefined) || (j.holder !== undefined && producers.has(j.holder)))
      .map((j) => j.call)
      .filter((j) => j.end <= get.call.getStart(sf) && !sameLoop(j, get.call));
    if (earlierJoins.length === 0) continue;
    for (const join of earlierJoins) {
      if (flaggedJoins.has(join)) continue;
      flaggedJoins.add(join);
      findings.push({
        code: 'join-before-drain',
        severity: 'warning',
        message: `\`join()\` waits for the child before \`${get.queue}\`, which the child fills, is drained. In CPython a child does not exit until what it put is taken, so this is the classic deadlock; take the items first, then join.`,
        start: join.getStart(sf),
        end: join.end,
        fixes: [],
      });
    }
    if (hasTimeout(get.call) || isGuardedByEmptyCheck(get.call, get.queue)) continue;
    const at = get.call.arguments.pos;
    findings.push({
      code: 'get-after-producers-ended',
      severity: 'warning',
      message: `Every process that puts on \`${get.queue}\` may already have ended here, so \`get()\` with no timeout can wait forever on an empty queue. Pass \`{ timeout }\` (it rejects \`Empty\`), or get before joining.`,
      start: get.call.getStart(sf),
      end: get.call.end,
      fixes: get.call.arguments.length === 0 ? [{ title: 'Add a timeout', edits: [{ start: at, end: at, newText: '{ timeout: 1000 }' }] }] : [],
    });
  }
  return findings;
}

/** The variable or array a new process is kept in: `const p = new Process(…)`, `procs.push(new Process(…))`, `const ps = [new Process(…)]`. */
function holderOf(creation: ts.Node): string | undefined {
  let node = creation;
  for (let depth = 0; depth < 8 && node.parent; depth++, node = node.parent) {
    const parent = node.parent;
    if (ts.isVariableDeclaration(parent)) return ts.isIdentifier(parent.name) ? parent.name.text : undefined;
    if (
      ts.isCallExpression(parent) &&
      parent.arguments.includes(node as ts.Expression) &&
      ts.isPropertyAccessExpression(parent.expression) &&
      parent.expression.name.text === 'push'
    ) {
      return parent.expression.expression.getText();
    }
    if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken && parent.right === node) return parent.left.getText();
    if (ts.isExpressionStatement(parent) || ts.isBlock(parent) || ts.isSourceFile(parent)) return undefined;
  }
  return undefined;
}

/** What a joined receiver was taken from: the variable itself, or the array a loop variable walks (`for (const p of procs)`, `procs[i]`). */
function receiverHolder(model: FileModel, receiver: ts.Expression): string | undefined {
  const e = peel(receiver);
  if (ts.isElementAccessExpression(e)) return e.expression.getText();
  if (!ts.isIdentifier(e)) return e.getText();
  const decl = model.declarationOf(e);
  if (decl && ts.isVariableDeclaration(decl.node) && ts.isForOfStatement(decl.node.parent.parent)) return peel(decl.node.parent.parent.expression).getText();
  return e.text;
}

/** A receiver that is a Process, or a loop variable over processes (`for (const p of procs) await p.join()`). */
function isProcessReceiver(model: FileModel, receiver: ts.Expression): boolean {
  const e = peel(receiver);
  const kind = model.kindOf(e);
  if (kind !== undefined) return kind === 'process';
  if (!ts.isIdentifier(e)) return false;
  const decl = model.declarationOf(e);
  if (!decl || !ts.isVariableDeclaration(decl.node)) return false;
  const loop = decl.node.parent.parent;
  if (!ts.isForOfStatement(loop)) return false;
  // `for (const p of procs)`: the array got its elements from `new Process` somewhere in the file.
  const source = peel(loop.expression);
  return ts.isIdentifier(source) && arrayHoldsProcesses(model, source.text);
}

function arrayHoldsProcesses(model: FileModel, name: string): boolean {
  const isProcess = (a: ts.Expression) => model.creates(a) === 'process' || model.kindOf(a) === 'process';
  for (const node of model.nodes.calls) {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'push' &&
      node.expression.expression.getText() === name
    ) {
      if (node.arguments.some(isProcess)) return true;
    }
  }
  for (const node of model.nodes.variables) {
    if (!ts.isIdentifier(node.name) || node.name.text !== name || !node.initializer) continue;
    const init = peel(node.initializer);
    if (ts.isArrayLiteralExpression(init) && init.elements.some(isProcess)) return true;
    if (
      ts.isCallExpression(init) &&
      ts.isPropertyAccessExpression(init.expression) &&
      /^(map|from)$/.test(init.expression.name.text) &&
      containsProcessCreation(model, init)
    )
      return true;
  }
  return false;
}

function containsProcessCreation(model: FileModel, node: ts.Node): boolean {
  if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && model.creates(node) === 'process') return true;
  return ts.forEachChild(node, (c) => containsProcessCreation(model, c) || undefined) ?? false;
}

function hasTimeout(call: ts.CallExpression): boolean {
  const [options] = call.arguments;
  if (!options) return false;
  const e = peel(options);
  if (!ts.isObjectLiteralExpression(e)) return true;
  const props = optionProps(e);
  return props.has('timeout') || props.has('block');
}

/** `while (!q.empty()) await q.get()` or `if (q.qsize() > 0)`: the caller already checked. */
function isGuardedByEmptyCheck(call: ts.Node, queue: string): boolean {
  const check = new RegExp(`\\b${queue}\\.(empty|qsize)\\(`);
  for (let n: ts.Node | undefined = call.parent; n && !ts.isFunctionLike(n); n = n.parent) {
    if ((ts.isWhileStatement(n) || ts.isIfStatement(n) || ts.isDoStatement(n)) && check.test(n.expression.getText())) return true;
    if (ts.isForStatement(n) && n.condition && check.test(n.condition.getText())) return true;
  }
  return false;
}

/** A join and a get in the same loop body alternate; order in the text says nothing. */
function sameLoop(a: ts.Node, b: ts.Node): boolean {
  for (let n: ts.Node | undefined = a.parent; n && !ts.isFunctionLike(n); n = n.parent) {
    if (ts.isIterationStatement(n, false) && b.pos >= n.pos && b.end <= n.end) return true;
  }
  return false;
}
