// Rule `unfindable-target`: a child finds its target the way pickle does, by module and exported name.
// Closures, inline or non-exported functions, bound functions and class methods cannot be found.
import ts from 'typescript';
import { indentAt } from './edits';
import { peel, type FileModel } from './fileModel';
import type { TargetSite } from './sites';
import type { Finding } from './types';

export function unfindableTarget(model: FileModel, sites: TargetSite[]): Finding[] {
  const sf = model.sourceFile;
  const findings: Finding[] = [];
  for (const site of sites) {
    if (!site.target) continue;
    const target = peel(site.target);
    const report = (message: string, fixes: Finding['fixes'] = []): void => {
      findings.push({ code: 'unfindable-target', severity: 'error', message, start: site.target!.getStart(sf), end: site.target!.end, fixes });
    };
    if (ts.isArrowFunction(target) || ts.isFunctionExpression(target)) {
      report(
        `An inline function given to ${site.api} cannot be found in a child: it has no module and name to import it by. Define it as an exported top-level function and pass its name (Python: a lambda cannot be pickled).`,
        extractFix(model, target),
      );
      continue;
    }
    if (ts.isCallExpression(target) && ts.isPropertyAccessExpression(target.expression) && target.expression.name.text === 'bind') {
      report(`A bound function given to ${site.api} cannot be found in a child. Pass an exported top-level function and send the bound values as arguments.`);
      continue;
    }
    if (ts.isPropertyAccessExpression(target)) {
      const owner = peel(target.expression);
      if (owner.kind === ts.SyntaxKind.ThisKeyword) {
        report(
          `The method \`${target.name.text}\` given to ${site.api} cannot be found in a child: a child imports functions by module and name, not through an object. Move it to an exported top-level function.`,
        );
        continue;
      }
      if (ts.isIdentifier(owner)) {
        const decl = model.declarationOf(owner);
        const isClassOrInstance =
          decl?.kind === 'class' ||
          (decl?.kind === 'variable' &&
            decl.initializer !== undefined &&
            (ts.isNewExpression(decl.initializer) || ts.isObjectLiteralExpression(decl.initializer)));
        if (isClassOrInstance) {
          report(
            `\`${owner.text}.${target.name.text}\` is a method: a child cannot find it, because it imports functions by module and name. Move it to an exported top-level function.`,
          );
        }
      }
      continue;
    }
    if (!ts.isIdentifier(target)) continue;
    const decl = model.declarationOf(target);
    if (!decl || decl.kind === 'import' || decl.kind === 'parameter' || decl.kind === 'class') continue;
    const isFunction =
      decl.kind === 'function' || (decl.initializer !== undefined && (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer)));
    if (!isFunction) continue;
    if (!decl.isModuleLevel) {
      report(
        `\`${target.text}\` is declared inside another function, so a child cannot find it (it could close over values that only exist here). Move it to the top level of the module and export it.`,
        moveFix(model, decl.node, target.text),
      );
      continue;
    }
    if (model.isExported(target.text)) continue;
    const statement = ts.isVariableDeclaration(decl.node) ? decl.node.parent.parent : decl.node;
    const at = statement.getStart(sf);
    report(`\`${target.text}\` is not exported, so a child cannot find it: a child imports its target by module and name, as pickle does. Export it.`, [
      { title: `Export \`${target.text}\``, isPreferred: true, edits: [{ start: at, end: at, newText: 'export ' }] },
    ]);
  }
  return findings;
}

/** The top-level statement a node sits in: where a function moved to the top level goes, just above. */
function topLevelStatement(node: ts.Node): ts.Statement {
  let n = node;
  while (!ts.isSourceFile(n.parent)) n = n.parent;
  return n as ts.Statement;
}

/** True when the function uses nothing declared in an enclosing function: it can move to the top level as it is. */
function isSelfContained(model: FileModel, fn: ts.Node): boolean {
  let closes = false;
  const visit = (node: ts.Node): void => {
    if (closes) return;
    if (ts.isIdentifier(node) && !isNameOnly(node)) {
      const decl = model.declarationOf(node);
      if (decl && !decl.isModuleLevel && !isWithin(decl.node, fn)) closes = true;
    }
    if (node.kind === ts.SyntaxKind.ThisKeyword) closes = true;
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(fn, visit);
  return !closes;
}

function isNameOnly(node: ts.Identifier): boolean {
  const p = node.parent;
  return (
    (ts.isPropertyAccessExpression(p) && p.name === node) ||
    (ts.isPropertyAssignment(p) && p.name === node) ||
    (ts.isQualifiedName(p) && p.right === node) ||
    ts.isTypeReferenceNode(p)
  );
}

function isWithin(node: ts.Node, container: ts.Node): boolean {
  return node.pos >= container.pos && node.end <= container.end;
}

/** A name no top-level declaration of the file uses yet: `task`, `task2`… */
function freshName(model: FileModel, base: string): string {
  const text = model.sourceFile.text;
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}${i}`;
    if (!new RegExp(`\\b${name}\\b`).test(text)) return name;
  }
}

/** `pool.map((x) => x * 2, xs)` → `export const task = (x) => x * 2;` above, and `pool.map(task, xs)`. */
function extractFix(model: FileModel, fn: ts.ArrowFunction | ts.FunctionExpression): Finding['fixes'] {
  if (!isSelfContained(model, fn)) return [];
  const sf = model.sourceFile;
  const name = freshName(model, 'task');
  const anchor = topLevelStatement(fn).getStart(sf);
  return [
    {
      title: `Move it to an exported top-level function \`${name}\``,
      isPreferred: true,
      edits: [
        { start: anchor, end: anchor, newText: `export const ${name} = ${fn.getText(sf)};\n\n` },
        { start: fn.getStart(sf), end: fn.end, newText: name },
      ],
    },
  ];
}

/** A function declared inside another one, that closes over nothing, moves above its top-level statement and is exported. */
function moveFix(model: FileModel, declaration: ts.Node, name: string): Finding['fixes'] {
  const sf = model.sourceFile;
  const statement = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration;
  if (
    ts.isVariableDeclaration(declaration) &&
    (!ts.isVariableDeclarationList(declaration.parent) || declaration.parent.declarations.length !== 1 || !ts.isVariableStatement(statement))
  ) {
    return [];
  }
  const fn = ts.isVariableDeclaration(declaration) ? declaration.initializer : declaration;
  if (!fn || !isSelfContained(model, fn)) return [];
  const anchor = topLevelStatement(statement).getStart(sf);
  const text = sf.text;
  const lineStart = text.lastIndexOf('\n', statement.getStart(sf) - 1);
  return [
    {
      title: `Move \`${name}\` to the top level and export it`,
      isPreferred: true,
      edits: [
        { start: anchor, end: anchor, newText: `export ${dedent(statement.getText(sf), indentAt(text, statement.getStart(sf)))}\n\n` },
        { start: lineStart, end: statement.end, newText: '' },
      ],
    },
  ];
}

function dedent(block: string, indent: string): string {
  return block
    .split('\n')
    .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
    .join('\n');
}
