// Rule `unserialisable-argument`: values sent to a child are copied by structured clone, so functions,
// sockets and DOM objects cannot cross, and instances of the program's own classes arrive without methods.
import ts from 'typescript';
import { peel, type FileModel } from './fileModel';
import type { TargetSite } from './sites';
import type { Finding } from './types';

const SOCKET_FACTORIES =
  /^(net|tls|dgram|http|https|http2)\.(connect|createConnection|createServer|createSocket|request|get|Socket|Server)$|^(createConnection|createServer|createSocket)$/;
const SOCKET_CLASSES = new Set(['Socket', 'Server', 'TLSSocket', 'WebSocket', 'ServerResponse', 'IncomingMessage', 'ClientRequest']);
const DOM_ROOTS = new Set(['document', 'window', 'navigator', 'localStorage']);

export function unserialisableArgument(model: FileModel, sites: TargetSite[]): Finding[] {
  const sf = model.sourceFile;
  const findings: Finding[] = [];
  for (const site of sites) {
    const siteContext = processContext(model, site);
    for (const arg of site.args) {
      const problem = whyNot(model, peel(arg)) ?? wrongContext(model, peel(arg), siteContext);
      if (!problem) continue;
      findings.push({
        code: 'unserialisable-argument',
        severity: problem.severity,
        message: `${problem.what} cannot cross into a child of ${site.api}: ${problem.why}`,
        start: arg.getStart(sf),
        end: arg.end,
        fixes: [],
      });
    }
  }
  return findings;
}

interface Problem {
  what: string;
  why: string;
  severity: 'error' | 'warning';
}

function whyNot(model: FileModel, e: ts.Expression, depth = 0): Problem | undefined {
  const text = e.getText();
  const functionProblem = {
    what: `\`${short(text)}\``,
    why: 'a function is not data (structured clone rejects it). Pass data, or have the child import the function it needs.',
    severity: 'error',
  } as const;
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return functionProblem;
  if (ts.isNewExpression(e) || ts.isCallExpression(e)) return creationProblem(model, e);
  if (ts.isIdentifier(e) || ts.isPropertyAccessExpression(e)) {
    const root = rootIdentifier(e);
    if (root && DOM_ROOTS.has(root.text) && !model.declarationOf(root)) {
      return { what: `\`${short(text)}\``, why: 'DOM objects exist only in their page; send the data you read from them.', severity: 'error' };
    }
    if (/^process\.(stdin|stdout|stderr)$/.test(text)) {
      return { what: `\`${text}\``, why: 'a stream is a handle of this process; the child has its own.', severity: 'error' };
    }
  }
  if (ts.isIdentifier(e) && depth === 0) {
    const decl = model.declarationOf(e);
    if (!decl || decl.kind === 'import' || decl.kind === 'parameter' || decl.kind === 'class') return undefined;
    if (decl.kind === 'function') return functionProblem;
    if (decl.initializer) {
      const init = decl.initializer;
      if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return functionProblem;
      const inner = whyNot(model, init, depth + 1);
      if (inner) return { ...inner, what: `\`${e.text}\` (${inner.what})` };
    }
  }
  return undefined;
}

function creationProblem(model: FileModel, e: ts.NewExpression | ts.CallExpression): Problem | undefined {
  if (model.creates(e) !== undefined) return undefined;
  const callee = peel(e.expression);
  const calleeText = callee.getText();
  const what = `\`${short(e.getText())}\``;
  if (SOCKET_FACTORIES.test(calleeText) || (ts.isNewExpression(e) && SOCKET_CLASSES.has(lastName(callee)))) {
    return { what, why: 'a socket is an open handle of this process. Open the connection in the child, or send the data.', severity: 'error' };
  }
  if (ts.isNewExpression(e) && ts.isIdentifier(callee)) {
    const decl = model.declarationOf(callee);
    if (decl?.kind === 'class' && ts.isClassDeclaration(decl.node) && !model.processClasses.has(callee.text)) {
      const methods = decl.node.members.filter((m) => ts.isMethodDeclaration(m) || ts.isGetAccessor(m) || ts.isSetAccessor(m));
      if (methods.length > 0) {
        return {
          what: `An instance of \`${callee.text}\``,
          why: `it arrives as a plain object: its fields are copied but its methods (${methods.map((m) => m.name?.getText()).join(', ')}) are lost. Send plain data and rebuild the object in the child.`,
          severity: 'warning',
        };
      }
    }
  }
  return undefined;
}

/** The start method of the process a site starts: `new ctx.Process()`, or a pool made by `new ctx.Pool()`. */
function processContext(model: FileModel, site: TargetSite): string | undefined {
  const call = site.call;
  if (ts.isNewExpression(call)) return model.contextOf(call);
  const receiver = ts.isPropertyAccessExpression(call.expression) ? call.expression.expression : undefined;
  return receiver ? model.contextOf(receiver) : undefined;
}

/** An object made for the in-process `"inline"` context lives in this process's memory only. */
function wrongContext(model: FileModel, arg: ts.Expression, siteContext: string | undefined): Problem | undefined {
  if (model.kindOf(arg) === undefined && model.creates(arg) === undefined) return undefined;
  if (model.contextOf(arg) !== 'inline' || siteContext === 'inline') return undefined;
  return {
    what: `\`${short(arg.getText())}\`, made for the "inline" context,`,
    why: `it lives in this process's memory only, and this child is started ${siteContext ? `with "${siteContext}"` : 'with the default start method'}. Create it from the same context as the process.`,
    severity: 'error',
  };
}

function rootIdentifier(e: ts.Expression): ts.Identifier | undefined {
  let x = e;
  while (ts.isPropertyAccessExpression(x) || ts.isElementAccessExpression(x) || ts.isCallExpression(x)) x = x.expression;
  return ts.isIdentifier(x) ? x : undefined;
}

function lastName(e: ts.Expression): string {
  return ts.isPropertyAccessExpression(e) ? e.name.text : ts.isIdentifier(e) ? e.text : '';
}

function short(text: string): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > 40 ? `${one.slice(0, 37)}…` : one;
}
