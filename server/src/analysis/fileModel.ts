// What every rule needs to know about one file, computed once per document version: the names it
// imports from `forkscope`, what kind of runtime object each variable holds, and a light scope lookup.
// Syntax only (no type checker), so a 2,000-line file is analysed in milliseconds. Never imports `vscode`.
import ts from 'typescript';

/** Runtime objects the rules reason about, by the class or function that creates them. */
export type ObjectKind = 'process' | 'pool' | 'executor' | 'manager' | 'queue' | 'lock' | 'connection' | 'shared';

const KIND_OF_EXPORT: Record<string, ObjectKind> = {
  Process: 'process',
  Pool: 'pool',
  ProcessPoolExecutor: 'executor',
  Manager: 'manager',
  BaseManager: 'manager',
  SyncManager: 'manager',
  Queue: 'queue',
  SimpleQueue: 'queue',
  JoinableQueue: 'queue',
  Lock: 'lock',
  RLock: 'lock',
  Semaphore: 'lock',
  BoundedSemaphore: 'lock',
  Pipe: 'connection',
  Value: 'shared',
  Array: 'shared',
  SharedArray: 'shared',
  RawValue: 'shared',
  RawArray: 'shared',
  Event: 'shared',
  Condition: 'shared',
  Barrier: 'shared',
  SharedMemory: 'shared',
  ShareableList: 'shared',
};

/** Where a name is declared, as far as `declarationOf` can tell without a checker. */
export interface Declaration {
  node: ts.Node;
  /** The declared identifier. */
  name: ts.Identifier;
  isModuleLevel: boolean;
  kind: 'import' | 'function' | 'class' | 'variable' | 'parameter';
  /** For variables: the initializer, with `await`, parentheses and casts peeled off. */
  initializer?: ts.Expression;
}

/** The nodes the rules look at, gathered in one walk of the tree, in source order. */
export interface NodeIndex {
  calls: (ts.CallExpression | ts.NewExpression)[];
  variables: ts.VariableDeclaration[];
  assignments: ts.BinaryExpression[];
  properties: ts.PropertyDeclaration[];
  classes: ts.ClassLikeDeclaration[];
  expressionStatements: ts.ExpressionStatement[];
}

export class FileModel {
  readonly sourceFile: ts.SourceFile;
  readonly nodes: NodeIndex;
  /** Local name → exported name, for `import { Pool as P } from 'forkscope'` and `const { Pool } = require('forkscope')`. */
  readonly #imported = new Map<string, string>();
  /** Local names that stand for the whole API: `import * as mp`, `require('forkscope')`, `getContext()` results. */
  readonly #namespaces = new Set<string>();
  /** Context name → its start method, for `const ctx = getContext('inline')`. */
  readonly #contextMethods = new Map<string, string>();
  /** Module-level names made visible to other modules. */
  readonly #exported = new Set<string>();
  /** Classes declared here that extend the runtime's Process. */
  readonly processClasses = new Set<string>();
  /** Variable name → the runtime object it holds (file-wide, by name: good enough for the patterns the rules look for). */
  readonly #kinds = new Map<string, ObjectKind>();

  constructor(sourceFile: ts.SourceFile) {
    this.sourceFile = sourceFile;
    this.nodes = indexNodes(sourceFile);
    this.#collectImports();
    if (!this.importsForkscope) return;
    this.#collectExports();
    this.#collectKinds();
  }

  get importsForkscope(): boolean {
    return this.#imported.size > 0 || this.#namespaces.size > 0;
  }

  /** The runtime's export an expression names (`Pool`, `mp.Pool`, `ctx.Pool`), if any. */
  exportName(expression: ts.Expression): string | undefined {
    const e = peel(expression);
    if (ts.isIdentifier(e)) return this.#imported.get(e.text);
    if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression) && this.#namespaces.has(e.expression.text)) {
      return e.name.text;
    }
    return undefined;
  }

  /** How to spell a runtime export in this file (`isMainProcess` or `mp.isMainProcess`), if it is reachable. */
  spell(name: string): string | undefined {
    for (const [local, exported] of this.#imported) if (exported === name) return local;
    const [ns] = this.#namespaces;
    return ns === undefined ? undefined : `${ns}.${name}`;
  }

  /** The kind of runtime object an expression creates: `new Pool()`, `Manager.start()`, `manager.Queue()`, `new MyProcess()`. */
  creates(expression: ts.Expression): ObjectKind | undefined {
    const e = peel(expression);
    if (!ts.isNewExpression(e) && !ts.isCallExpression(e)) return undefined;
    const callee = peel(e.expression);
    const name = this.exportName(callee);
    if (name !== undefined) return KIND_OF_EXPORT[name];
    if (ts.isIdentifier(callee) && this.processClasses.has(callee.text)) return 'process';
    if (ts.isPropertyAccessExpression(callee)) {
      // `Manager.start()`, `Pool.create()`: a static factory of a runtime class.
      const owner = this.exportName(callee.expression);
      if (owner !== undefined && KIND_OF_EXPORT[owner] !== undefined && /^(start|create|connect)$/.test(callee.name.text)) {
        return KIND_OF_EXPORT[owner];
      }
      // `manager.Queue()`, `manager.Lock()`: a proxy from a manager.
      if (this.kindOf(callee.expression) === 'manager') return KIND_OF_EXPORT[callee.name.text];
    }
    return undefined;
  }

  /** The runtime object a receiver holds: a variable or `this.field` assigned from one of the creators above. */
  kindOf(expression: ts.Expression): ObjectKind | undefined {
    const e = peel(expression);
    if (ts.isIdentifier(e)) return this.#kinds.get(e.text);
    if (ts.isPropertyAccessExpression(e) && e.expression.kind === ts.SyntaxKind.ThisKeyword) return this.#kinds.get(`this.${e.name.text}`);
    return undefined;
  }

  /**
   * The start method an object is created for: `'inline'` for `new ctx.Queue()` with `ctx = getContext('inline')`,
   * `undefined` for the default context or when it cannot be told (a variable is followed to its initializer).
   */
  contextOf(expression: ts.Expression): string | undefined {
    let e = peel(expression);
    if (ts.isIdentifier(e)) {
      const decl = this.declarationOf(e);
      if (!decl?.initializer) return undefined;
      e = decl.initializer;
    }
    if (!ts.isNewExpression(e) && !ts.isCallExpression(e)) return undefined;
    const callee = peel(e.expression);
    return ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) ? this.#contextMethods.get(callee.expression.text) : undefined;
  }

  isExported(name: string): boolean {
    return this.#exported.has(name);
  }

  /** Finds the declaration an identifier refers to by walking its enclosing scopes. */
  declarationOf(id: ts.Identifier): Declaration | undefined {
    const name = id.text;
    for (let scope: ts.Node | undefined = id.parent; scope; scope = scope.parent) {
      const found = declarationIn(scope, name);
      if (found) return found;
    }
    return undefined;
  }

  #collectImports(): void {
    for (const statement of this.sourceFile.statements) {
      if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier) && isForkscope(statement.moduleSpecifier.text)) {
        const clause = statement.importClause;
        if (!clause) continue;
        if (clause.name) this.#namespaces.add(clause.name.text);
        const bindings = clause.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) this.#namespaces.add(bindings.name.text);
        if (bindings && ts.isNamedImports(bindings)) {
          for (const el of bindings.elements) this.#imported.set(el.name.text, (el.propertyName ?? el.name).text);
        }
      }
      if (ts.isImportEqualsDeclaration(statement)) {
        const ref = statement.moduleReference;
        if (ts.isExternalModuleReference(ref) && ts.isStringLiteral(ref.expression) && isForkscope(ref.expression.text)) {
          this.#namespaces.add(statement.name.text);
        }
      }
      if (ts.isVariableStatement(statement)) {
        for (const decl of statement.declarationList.declarations) {
          if (!decl.initializer || !isRequireOfForkscope(decl.initializer)) continue;
          if (ts.isIdentifier(decl.name)) this.#namespaces.add(decl.name.text);
          if (ts.isObjectBindingPattern(decl.name)) {
            for (const el of decl.name.elements) {
              if (!ts.isIdentifier(el.name)) continue;
              const exported = el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : el.name.text;
              this.#imported.set(el.name.text, exported);
            }
          }
        }
      }
    }
  }

  #collectExports(): void {
    for (const statement of this.sourceFile.statements) {
      const exported = hasModifier(statement, ts.SyntaxKind.ExportKeyword);
      if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name && exported) {
        this.#exported.add(statement.name.text);
      }
      if (ts.isVariableStatement(statement) && exported) {
        for (const decl of statement.declarationList.declarations) for (const n of boundNames(decl.name)) this.#exported.add(n.text);
      }
      if (ts.isExportDeclaration(statement) && !statement.moduleSpecifier && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
        for (const el of statement.exportClause.elements) this.#exported.add((el.propertyName ?? el.name).text);
      }
      if (ts.isExportAssignment(statement)) this.#addCommonJsExports(statement.expression);
      if (ts.isExpressionStatement(statement) && ts.isBinaryExpression(statement.expression)) {
        const { left, right, operatorToken } = statement.expression;
        if (operatorToken.kind !== ts.SyntaxKind.EqualsToken) continue;
        const target = left.getText(this.sourceFile);
        if (target === 'module.exports') this.#addCommonJsExports(right);
        else if (/^(module\.)?exports\.\w+$/.test(target) && ts.isIdentifier(right)) this.#exported.add(right.text);
      }
    }
  }

  #addCommonJsExports(expression: ts.Expression): void {
    if (ts.isIdentifier(expression)) this.#exported.add(expression.text);
    if (!ts.isObjectLiteralExpression(expression)) return;
    for (const p of expression.properties) {
      if (ts.isShorthandPropertyAssignment(p)) this.#exported.add(p.name.text);
      if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.initializer)) this.#exported.add(p.initializer.text);
    }
  }

  #collectKinds(): void {
    // `const ctx = getContext('spawn')` gives the whole API under `ctx`: known before any `new ctx.Pool()`.
    for (const decl of this.nodes.variables) {
      if (!decl.initializer || !ts.isIdentifier(decl.name)) continue;
      const init = peel(decl.initializer);
      if (ts.isCallExpression(init) && this.exportName(init.expression) === 'getContext') {
        this.#namespaces.add(decl.name.text);
        const [method] = init.arguments;
        if (method && ts.isStringLiteralLike(method)) this.#contextMethods.set(decl.name.text, method.text);
      }
    }
    // Process subclasses next, so `new MyProcess()` below is recognised (a subclass of a subclass too).
    for (let grew = true; grew; ) {
      grew = false;
      for (const node of this.nodes.classes) {
        if (!node.name || this.processClasses.has(node.name.text)) continue;
        const base = node.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression;
        if (base && (this.exportName(base) === 'Process' || (ts.isIdentifier(base) && this.processClasses.has(base.text)))) {
          this.processClasses.add(node.name.text);
          grew = true;
        }
      }
    }
    for (const node of this.nodes.variables) {
      if (!node.initializer) continue;
      const kind = this.creates(node.initializer);
      if (kind !== undefined && ts.isIdentifier(node.name)) this.#kinds.set(node.name.text, kind);
      if (kind === 'connection' && ts.isArrayBindingPattern(node.name)) {
        for (const n of boundNames(node.name)) this.#kinds.set(n.text, 'connection');
      }
    }
    for (const node of this.nodes.assignments) {
      if (node.operatorToken.kind !== ts.SyntaxKind.EqualsToken) continue;
      const kind = this.creates(node.right);
      if (kind === undefined) continue;
      if (ts.isIdentifier(node.left)) this.#kinds.set(node.left.text, kind);
      if (ts.isPropertyAccessExpression(node.left) && node.left.expression.kind === ts.SyntaxKind.ThisKeyword) {
        this.#kinds.set(`this.${node.left.name.text}`, kind);
      }
    }
    for (const node of this.nodes.properties) {
      if (!node.initializer || !ts.isIdentifier(node.name)) continue;
      const kind = this.creates(node.initializer);
      if (kind !== undefined) this.#kinds.set(`this.${node.name.text}`, kind);
    }
  }
}

function indexNodes(sourceFile: ts.SourceFile): NodeIndex {
  const index: NodeIndex = { calls: [], variables: [], assignments: [], properties: [], classes: [], expressionStatements: [] };
  const visit = (node: ts.Node): void => {
    switch (node.kind) {
      case ts.SyntaxKind.CallExpression:
      case ts.SyntaxKind.NewExpression:
        index.calls.push(node as ts.CallExpression | ts.NewExpression);
        break;
      case ts.SyntaxKind.VariableDeclaration:
        index.variables.push(node as ts.VariableDeclaration);
        break;
      case ts.SyntaxKind.BinaryExpression:
        if (isAssignmentOperator((node as ts.BinaryExpression).operatorToken.kind)) index.assignments.push(node as ts.BinaryExpression);
        break;
      case ts.SyntaxKind.PropertyDeclaration:
        index.properties.push(node as ts.PropertyDeclaration);
        break;
      case ts.SyntaxKind.ClassDeclaration:
      case ts.SyntaxKind.ClassExpression:
        index.classes.push(node as ts.ClassLikeDeclaration);
        break;
      case ts.SyntaxKind.ExpressionStatement:
        index.expressionStatements.push(node as ts.ExpressionStatement);
        break;
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return index;
}

export function isAssignmentOperator(kind: ts.SyntaxKind): boolean {
  return kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;
}

export function isForkscope(specifier: string): boolean {
  return specifier === 'forkscope';
}

function isRequireCall(expression: ts.Expression): boolean {
  const e = peel(expression);
  return ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'require';
}

function isRequireOfForkscope(expression: ts.Expression): boolean {
  const e = peel(expression);
  return (
    ts.isCallExpression(e) &&
    ts.isIdentifier(e.expression) &&
    e.expression.text === 'require' &&
    e.arguments.length === 1 &&
    ts.isStringLiteral(e.arguments[0]!) &&
    isForkscope(e.arguments[0].text)
  );
}

/** Strips what does not change the value: `await`, parentheses, `as`/`satisfies`/`!`. */
export function peel(expression: ts.Expression): ts.Expression {
  let e = expression;
  for (;;) {
    if (ts.isAwaitExpression(e) || ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isSatisfiesExpression(e)) {
      e = e.expression;
    } else if (ts.isTypeAssertionExpression(e)) {
      e = e.expression;
    } else {
      return e;
    }
  }
}

export function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node)?.some((m) => m.kind === kind) ?? false);
}

export function boundNames(name: ts.BindingName): ts.Identifier[] {
  if (ts.isIdentifier(name)) return [name];
  const out: ts.Identifier[] = [];
  for (const el of name.elements) if (!ts.isOmittedExpression(el)) out.push(...boundNames(el.name));
  return out;
}

function declarationIn(scope: ts.Node, name: string): Declaration | undefined {
  const isModuleLevel = ts.isSourceFile(scope);
  if (ts.isFunctionLike(scope)) {
    for (const p of scope.parameters) {
      const id = boundNames(p.name).find((n) => n.text === name);
      if (id) return { node: p, name: id, isModuleLevel: false, kind: 'parameter' };
    }
    if ((ts.isFunctionExpression(scope) || ts.isClassExpression(scope)) && scope.name?.text === name) {
      return { node: scope, name: scope.name, isModuleLevel: false, kind: 'function' };
    }
  }
  if (ts.isCatchClause(scope) && scope.variableDeclaration) {
    const id = boundNames(scope.variableDeclaration.name).find((n) => n.text === name);
    if (id) return { node: scope.variableDeclaration, name: id, isModuleLevel: false, kind: 'variable' };
  }
  if (ts.isForStatement(scope) || ts.isForOfStatement(scope) || ts.isForInStatement(scope)) {
    const init = scope.initializer;
    if (init && ts.isVariableDeclarationList(init)) {
      for (const d of init.declarations) {
        const id = boundNames(d.name).find((n) => n.text === name);
        if (id) return { node: d, name: id, isModuleLevel: false, kind: 'variable' };
      }
    }
  }
  const statements =
    ts.isSourceFile(scope) || ts.isBlock(scope) || ts.isModuleBlock(scope)
      ? scope.statements
      : ts.isCaseClause(scope) || ts.isDefaultClause(scope)
        ? scope.statements
        : undefined;
  if (!statements) return undefined;
  for (const s of statements) {
    if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name?.text === name) {
      return { node: s, name: s.name, isModuleLevel, kind: ts.isFunctionDeclaration(s) ? 'function' : 'class' };
    }
    if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) {
        const id = boundNames(d.name).find((n) => n.text === name);
        if (id) {
          const initializer = d.initializer && ts.isIdentifier(d.name) ? peel(d.initializer) : undefined;
          const isRequire = d.initializer !== undefined && isRequireCall(d.initializer);
          return { node: d, name: id, isModuleLevel, kind: isRequire ? 'import' : 'variable', initializer };
        }
      }
    }
    if (isModuleLevel && ts.isImportDeclaration(s) && s.importClause) {
      const clause = s.importClause;
      const ids: ts.Identifier[] = [];
      if (clause.name) ids.push(clause.name);
      if (clause.namedBindings && ts.isNamespaceImport(clause.namedBindings)) ids.push(clause.namedBindings.name);
      if (clause.namedBindings && ts.isNamedImports(clause.namedBindings)) ids.push(...clause.namedBindings.elements.map((e) => e.name));
      const id = ids.find((n) => n.text === name);
      if (id) return { node: s, name: id, isModuleLevel: true, kind: 'import' };
    }
    if (isModuleLevel && ts.isImportEqualsDeclaration(s) && s.name.text === name) {
      return { node: s, name: s.name, isModuleLevel: true, kind: 'import' };
    }
  }
  return undefined;
}

/** True for the nodes whose bodies run later, not where they are written. */
export function isFunctionBoundary(node: ts.Node): boolean {
  return ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node);
}

/** The function (or the file) whose body a node runs in. */
export function enclosingFunction(node: ts.Node): ts.SignatureDeclaration | ts.SourceFile {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isFunctionLike(n)) return n;
    if (ts.isSourceFile(n)) return n;
  }
  return node.getSourceFile();
}
