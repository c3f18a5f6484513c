// Finds the places where code crosses into a child: targets and arguments given to Process, Pool and
// the executor, and the `isMainProcess()` guards. Shared by several rules. Never imports `vscode`.
import ts from 'typescript';
import { peel, type FileModel } from './fileModel';

/** A function handed to the runtime to run in a child, with the values sent along with it. */
export interface TargetSite {
  /** The expression naming the function (`square`, `() => …`, `this.work`). */
  target: ts.Expression | undefined;
  /** Expressions whose values are serialised into the child. */
  args: ts.Expression[];
  /** The call or `new` expression. */
  call: ts.CallExpression | ts.NewExpression;
  /** `Pool.map`, `new Process`…, for messages. */
  api: string;
}

const POOL_MAP = new Set(['map', 'mapAsync', 'imap', 'imapUnordered', 'starmap', 'starmapAsync']);
const POOL_APPLY = new Set(['apply', 'applyAsync']);

export function targetSites(model: FileModel): TargetSite[] {
  const sites: TargetSite[] = [];
  for (const node of model.nodes.calls) {
    if (ts.isNewExpression(node)) {
      const kind = model.creates(node);
      const options = node.arguments?.[0];
      if ((kind === 'process' || kind === 'pool' || kind === 'executor') && options && ts.isObjectLiteralExpression(peel(options))) {
        const props = optionProps(peel(options) as ts.ObjectLiteralExpression);
        const api = kind === 'process' ? 'new Process' : kind === 'pool' ? 'new Pool' : 'new ProcessPoolExecutor';
        if (kind === 'process' && (props.has('target') || props.has('args') || props.has('kwargs'))) {
          sites.push({ target: props.get('target'), args: [...spreadValues(props.get('args')), ...objectValues(props.get('kwargs'))], call: node, api });
        }
        if (props.has('initializer') || props.has('initargs')) {
          sites.push({ target: props.get('initializer'), args: spreadValues(props.get('initargs')), call: node, api: `${api} initializer` });
        }
      }
      // A Process subclass's constructor arguments become its fields, which travel to the child.
      if (kind === 'process' && !model.exportName(node.expression) && node.arguments) {
        sites.push({ target: undefined, args: [...node.arguments], call: node, api: `new ${node.expression.getText()}` });
      }
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      const kind = model.kindOf(node.expression.expression);
      const [first, second] = node.arguments;
      if (kind === 'pool' && POOL_MAP.has(method)) {
        sites.push({ target: first, args: second ? spreadValues(second) : [], call: node, api: `Pool.${method}` });
      } else if (kind === 'pool' && POOL_APPLY.has(method)) {
        sites.push({ target: first, args: second ? spreadValues(second) : [], call: node, api: `Pool.${method}` });
      } else if (kind === 'executor' && method === 'submit') {
        sites.push({ target: first, args: node.arguments.slice(1), call: node, api: 'ProcessPoolExecutor.submit' });
      } else if (kind === 'executor' && method === 'map') {
        const iterables = node.arguments.slice(1).filter((a) => !ts.isObjectLiteralExpression(peel(a)));
        sites.push({ target: first, args: iterables.flatMap(spreadValues), call: node, api: 'ProcessPoolExecutor.map' });
      }
    }
  }
  return sites;
}

/** Property name → value of an options object literal. */
export function optionProps(object: ts.ObjectLiteralExpression): Map<string, ts.Expression> {
  const out = new Map<string, ts.Expression>();
  for (const p of object.properties) {
    if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) out.set(p.name.text, p.initializer);
    if (ts.isShorthandPropertyAssignment(p)) out.set(p.name.text, p.name);
  }
  return out;
}

/** The elements of an array literal (tuples too, one level deep for starmap), or nothing when not a literal. */
function spreadValues(expression: ts.Expression | undefined): ts.Expression[] {
  if (!expression) return [];
  const e = peel(expression);
  if (!ts.isArrayLiteralExpression(e)) return [];
  return e.elements.flatMap((el) => {
    const inner = peel(el);
    if (ts.isSpreadElement(inner)) return [];
    return ts.isArrayLiteralExpression(inner) ? inner.elements.filter((x) => !ts.isSpreadElement(x)) : [inner];
  });
}

function objectValues(expression: ts.Expression | undefined): ts.Expression[] {
  if (!expression) return [];
  const e = peel(expression);
  return ts.isObjectLiteralExpression(e) ? [...optionProps(e).values()] : [];
}

/** Whether a condition tests `isMainProcess()`: 'main' when true means main, 'child' when negated. */
export function guardSense(model: FileModel, condition: ts.Expression): 'main' | 'child' | undefined {
  const e = peel(condition);
  if (ts.isCallExpression(e) && model.exportName(e.expression) === 'isMainProcess') return 'main';
  if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.ExclamationToken) {
    const inner = guardSense(model, e.operand);
    return inner === 'main' ? 'child' : inner === 'child' ? 'main' : undefined;
  }
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken) {
    return guardSense(model, e.left) === 'main' || guardSense(model, e.right) === 'main' ? 'main' : undefined;
  }
  // Node's own main-module tests are guards too: a child's entry point is the runtime's bootstrap, so in a
  // child they are false as well (`require.main === module`, `import.meta.main`, `process.argv[1] === …`).
  if (ts.isPropertyAccessExpression(e) && e.getText() === 'import.meta.main') return 'main';
  if (ts.isBinaryExpression(e)) {
    const op = e.operatorToken.kind;
    const equal = op === ts.SyntaxKind.EqualsEqualsEqualsToken || op === ts.SyntaxKind.EqualsEqualsToken;
    const unequal = op === ts.SyntaxKind.ExclamationEqualsEqualsToken || op === ts.SyntaxKind.ExclamationEqualsToken;
    if ((equal || unequal) && isMainTest(model, e.left, e.right)) return equal ? 'main' : 'child';
  }
  return undefined;
}

function isMainTest(model: FileModel, a: ts.Expression, b: ts.Expression): boolean {
  const [x, y] = [peel(a), peel(b)];
  const texts = [x.getText(), y.getText()];
  const either = (test: (one: ts.Expression, other: ts.Expression) => boolean) => test(x, y) || test(y, x);
  if (texts.includes('require.main') && texts.includes('module')) return true;
  if (texts.some((t) => /^process\.argv\[1\]$/.test(t)) && texts.some((t) => /import\.meta|__filename/.test(t))) return true;
  // `currentProcess().name === 'MainProcess'`, `parentProcess() === null`: Python's own idioms.
  return either((one, other) => {
    if (ts.isPropertyAccessExpression(one) && one.name.text === 'name' && ts.isCallExpression(one.expression)) {
      return model.exportName(one.expression.expression) === 'currentProcess' && ts.isStringLiteral(other) && other.text === 'MainProcess';
    }
    return ts.isCallExpression(one) && model.exportName(one.expression) === 'parentProcess' && other.kind === ts.SyntaxKind.NullKeyword;
  });
}

/** Whether a node only runs in the main process because of an enclosing `isMainProcess()` test. */
export function isGuarded(model: FileModel, node: ts.Node): boolean {
  for (let child = node, parent = node.parent; parent; child = parent, parent = parent.parent) {
    if (ts.isIfStatement(parent) && child !== parent.expression) {
      const sense = guardSense(model, parent.expression);
      if (sense === 'main' && child === parent.thenStatement) return true;
      if (sense === 'child' && child === parent.elseStatement) return true;
    }
    if (ts.isConditionalExpression(parent)) {
      const sense = guardSense(model, parent.condition);
      if (sense === 'main' && child === parent.whenTrue) return true;
      if (sense === 'child' && child === parent.whenFalse) return true;
    }
    if (ts.isBinaryExpression(parent) && child === parent.right && parent.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken) {
      if (guardSense(model, parent.left) === 'main') return true;
    }
    // `if (!isMainProcess()) return;` earlier in the same block guards what follows.
    if (ts.isBlock(parent) || ts.isSourceFile(parent)) {
      for (const s of parent.statements) {
        if (s === child) break;
        if (ts.isIfStatement(s) && guardSense(model, s.expression) === 'child' && exits(s.thenStatement)) return true;
      }
    }
  }
  return false;
}

function exits(statement: ts.Statement): boolean {
  if (ts.isReturnStatement(statement) || ts.isThrowStatement(statement)) return true;
  if (ts.isExpressionStatement(statement)) return /^process\.exit\b/.test(statement.expression.getText());
  return ts.isBlock(statement) && statement.statements.length > 0 && exits(statement.statements[statement.statements.length - 1]!);
}
