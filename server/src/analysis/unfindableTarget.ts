// Rule `unfindable-target`: a child finds its target the way pickle does, by module and exported name.
// Closures, inline or non-exported functions, bound functions and class methods cannot be found.
import ts from 'typescript';
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
      report(`An inline function given to ${site.api} cannot be found in a child: it has no module and name to import it by. Define it as an exported top-level function and pass its name (Python: a lambda cannot be pickled).`);
      continue;
    }
    if (ts.isCallExpression(target) && ts.isPropertyAccessExpression(target.expression) && target.expression.name.text === 'bind') {
      report(`A bound function given to ${site.api} cannot be found in a child. Pass an exported top-level function and send the bound values as arguments.`);
      continue;
    }
    if (ts.isPropertyAccessExpression(target)) {
      const owner = peel(target.expression);
      if (owner.kind === ts.SyntaxKind.ThisKeyword) {
        report(`The method \`${target.name.text}\` given to ${site.api} cannot be found in a child: a child imports functions by module and name, not through an object. Move it to an exported top-level function.`);
        continue;
      }
      if (ts.isIdentifier(owner)) {
        const decl = model.declarationOf(owner);
        const isClassOrInstance =
          decl?.kind === 'class' || (decl?.kind === 'variable' && decl.initializer !== undefined && (ts.isNewExpression(decl.initializer) || ts.isObjectLiteralExpression(decl.initializer)));
        if (isClassOrInstance) {
          report(`\`${owner.text}.${target.name.text}\` is a method: a child cannot find it, because it imports functions by module and name. Move it to an exported top-level function.`);
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
      report(`\`${target.text}\` is declared inside another function, so a child cannot find it (it could close over values that only exist here). Move it to the top level of the module and export it.`);
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
