// STYLE.md's import rules, checked by scanning the imports of every .ts file with TypeScript's parser.
// Pure: reads source files, starts nothing. The negative cases prove each rule can fail.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const ROOT = resolve(__dirname, '..', '..');
const BUILTINS = new Set(builtinModules);

export interface ImportRef {
  specifier: string;
  isTypeOnly: boolean;
  line: number;
}

/** Every module a file names: import/export declarations, `import x = require()`, `import()`, `require()`. */
export function importsOf(fileName: string, text: string): ImportRef[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ImportRef[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined, isTypeOnly: boolean) => {
    if (specifier && ts.isStringLiteralLike(specifier)) {
      out.push({ specifier: specifier.text, isTypeOnly, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    }
  };
  const visit = (node: ts.Node): void => {
    // With verbatimModuleSyntax only `import type` is erased; `import { type X }` still loads the module.
    if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(node, node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node, node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isCallExpression(node)) {
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isDynamicImport || isRequire) add(node, node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal, true);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const isNodeBuiltin = (s: string) => s.startsWith('node:') || BUILTINS.has(s.split('/')[0]!);
const isVscode = (s: string) => s === 'vscode' || s.startsWith('vscode/');
const isRelative = (s: string) => s.startsWith('./') || s.startsWith('../');
const under = (path: string, dir: string) => path === dir || path.startsWith(dir + sep);

/** Files in src/debug that register with VS Code and may load `vscode`; the rest is the adapter core. */
export function registersWithVscode(file: string): boolean {
  return /^(register\w*|\w*(Provider|Factory|Tracker)|vscode\w*)\.ts$/.test(basename(file));
}

function resolveRelative(from: string, specifier: string, exists: (p: string) => boolean): string | null {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), base.replace(/\.m?js$/, '.ts')]) {
    if (exists(candidate) && candidate.endsWith('.ts')) return candidate;
  }
  return null;
}

/**
 * The rules, over absolute file paths and their text. Returns violations as `path:line: message`.
 * - runtime/ never imports the extension (anything outside runtime/) or `vscode`, and only Node's own modules
 *   (esbuild in runtime/src/loader/, bullmq and ioredis in runtime/src/bullmq/).
 * - webview/ never imports Node built-ins or `vscode`, nor (through value imports) a file that does.
 * - server/ never imports `vscode`.
 * - src/debug/ uses `import type` for `vscode`, except files that register with VS Code.
 * - hub/ (shipped by the CLI and by the extension, a top-level context of its own) imports neither `vscode` nor any file
 *   of the extension (src/: src/view, src/debug…; webview/; server/), not even for a type: only itself, runtime/ and Node
 *   (and ps-list, which the process sampler loads).
 */
export function checkImports(root: string, files: Map<string, string>): string[] {
  const violations: string[] = [];
  const exists = (p: string) => files.has(p);
  const at = (file: string, ref: ImportRef, message: string) => violations.push(`${relative(root, file)}:${ref.line}: ${message} (${ref.specifier})`);
  const parsed = new Map([...files].map(([file, text]) => [file, importsOf(file, text)]));

  const webviewReach = new Set<string>();
  const queue = [...files.keys()].filter((f) => under(f, join(root, 'webview')));
  while (queue.length) {
    const file = queue.pop()!;
    if (webviewReach.has(file)) continue;
    webviewReach.add(file);
    for (const ref of parsed.get(file) ?? []) {
      if (ref.isTypeOnly || !isRelative(ref.specifier)) continue;
      const target = resolveRelative(file, ref.specifier, exists);
      if (target) queue.push(target);
    }
  }

  for (const [file, refs] of parsed) {
    for (const ref of refs) {
      const s = ref.specifier;
      if (under(file, join(root, 'runtime'))) {
        if (isVscode(s)) at(file, ref, 'the runtime must not import vscode');
        else if (isRelative(s) && !under(resolve(dirname(file), s), join(root, 'runtime')))
          at(file, ref, 'the runtime must not import the extension or anything outside runtime/');
        else if (
          !isRelative(s) &&
          !isNodeBuiltin(s) &&
          !(s === 'esbuild' && under(file, join(root, 'runtime', 'src', 'loader'))) &&
          !((s === 'bullmq' || s === 'ioredis') && under(file, join(root, 'runtime', 'src', 'bullmq')))
        ) {
          // DESIGN.md allows a TypeScript loader where Node cannot run the program's TypeScript itself, and bullmq +
          // ioredis for the cluster backend, each only in its own folder (loaded only when that backend is asked for).
          at(file, ref, "the runtime uses Node's own modules only");
        }
      }
      if (webviewReach.has(file) && !ref.isTypeOnly) {
        const via = under(file, join(root, 'webview')) ? '' : ' (reached from webview/)';
        if (isVscode(s)) at(file, ref, `the webview must not import vscode${via}`);
        else if (isNodeBuiltin(s)) at(file, ref, `the webview must not import Node built-ins${via}`);
      }
      if (under(file, join(root, 'server')) && isVscode(s)) at(file, ref, 'the language server must not import vscode');
      if (under(file, join(root, 'hub'))) {
        const target = isRelative(s) ? resolve(dirname(file), s) : undefined;
        if (isVscode(s)) at(file, ref, 'the hub must not import vscode');
        else if (target !== undefined && !under(target, join(root, 'hub')) && !under(target, join(root, 'runtime'))) {
          at(file, ref, 'the hub imports only hub/, runtime/ and Node, never the extension (src/, webview/, server/)');
        } else if (!isRelative(s) && !isNodeBuiltin(s) && s !== 'ps-list')
          at(file, ref, "the hub uses Node's own modules only (and ps-list, the sampler's process listing)");
      }
      if (under(file, join(root, 'src', 'debug')) && isVscode(s) && !ref.isTypeOnly && !registersWithVscode(file)) {
        at(file, ref, 'the debug adapter core must use `import type` for vscode (only register*/…Provider/…Factory/…Tracker files may load it)');
      }
    }
  }
  return violations;
}

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('import rules (STYLE.md)', () => {
  it('importsOf() sees every kind of import and which are type-only', () => {
    const refs = importsOf(
      'x.ts',
      [
        "import type { A } from 'a';",
        "import { type B } from 'b';",
        "import * as c from 'c';",
        "export { d } from 'd';",
        "export type { E } from 'e';",
        "import f = require('f');",
        "const g = await import('g');",
        "const h = require('h');",
        "let i: import('i').I;",
        "import 'j';",
      ].join('\n'),
    );
    assert.deepEqual(
      refs.map((r) => `${r.specifier}:${r.isTypeOnly}`),
      ['a:true', 'b:false', 'c:false', 'd:false', 'e:true', 'f:false', 'g:false', 'h:false', 'i:true', 'j:false'],
    );
  });

  it('checkImports() fails on each kind of violation (negative cases)', () => {
    const root = '/repo';
    const files = new Map([
      [
        '/repo/runtime/src/a.ts',
        "import * as vscode from 'vscode';\nimport { x } from '../../hub/snapshot';\nimport lodash from 'lodash';\nimport { y } from './ok';\nimport { z } from 'node:fs';",
      ],
      ['/repo/runtime/src/ok.ts', "import { EventEmitter } from 'events';"],
      ['/repo/runtime/src/pool2.ts', "import { Queue } from 'bullmq';"],
      ['/repo/runtime/src/bullmq/ok.ts', "import { Queue } from 'bullmq';\nimport type Redis from 'ioredis';"],
      [
        '/repo/webview/main.ts',
        "import { readFileSync } from 'node:fs';\nimport type { T } from '../src/view/messages';\nimport { helper } from '../src/view/helper';",
      ],
      ['/repo/src/view/messages.ts', "import type * as vscode from 'vscode';"],
      ['/repo/src/view/helper.ts', "import { createHash } from 'crypto';"],
      ['/repo/server/src/server.ts', "import { commands } from 'vscode';\nimport { createConnection } from 'vscode-languageserver/node';"],
      ['/repo/src/debug/adapter.ts', "import * as vscode from 'vscode';"],
      ['/repo/src/debug/session.ts', "import type * as vscode from 'vscode';"],
      ['/repo/src/debug/registerDebugging.ts', "import * as vscode from 'vscode';"],
      [
        '/repo/hub/a.ts',
        "import type * as vscode from 'vscode';\nimport type { T } from '../src/view/messages';\nimport { s } from '../webview/state';\nimport { p } from '../runtime/src/protocol';\nimport { m } from './b';\nimport { d } from '../src/debug/nodeLauncher';\nimport { l } from '../server/src/server';\nimport lodash from 'lodash';\nimport { createServer } from 'node:net';",
      ],
      [
        '/repo/hub/model/b.ts',
        "import type { P } from '../../runtime/src/protocol';\nimport { s } from '../state';\nimport { v } from '../../src/view/messages';",
      ],
    ]);
    assert.deepEqual(checkImports(root, files), [
      'runtime/src/a.ts:1: the runtime must not import vscode (vscode)',
      'runtime/src/a.ts:2: the runtime must not import the extension or anything outside runtime/ (../../hub/snapshot)',
      "runtime/src/a.ts:3: the runtime uses Node's own modules only (lodash)",
      "runtime/src/pool2.ts:1: the runtime uses Node's own modules only (bullmq)",
      'webview/main.ts:1: the webview must not import Node built-ins (node:fs)',
      'src/view/helper.ts:1: the webview must not import Node built-ins (reached from webview/) (crypto)',
      'server/src/server.ts:1: the language server must not import vscode (vscode)',
      'src/debug/adapter.ts:1: the debug adapter core must use `import type` for vscode (only register*/…Provider/…Factory/…Tracker files may load it) (vscode)',
      'hub/a.ts:1: the hub must not import vscode (vscode)',
      'hub/a.ts:2: the hub imports only hub/, runtime/ and Node, never the extension (src/, webview/, server/) (../src/view/messages)',
      'hub/a.ts:3: the hub imports only hub/, runtime/ and Node, never the extension (src/, webview/, server/) (../webview/state)',
      'hub/a.ts:6: the hub imports only hub/, runtime/ and Node, never the extension (src/, webview/, server/) (../src/debug/nodeLauncher)',
      'hub/a.ts:7: the hub imports only hub/, runtime/ and Node, never the extension (src/, webview/, server/) (../server/src/server)',
      "hub/a.ts:8: the hub uses Node's own modules only (and ps-list, the sampler's process listing) (lodash)",
      'hub/model/b.ts:3: the hub imports only hub/, runtime/ and Node, never the extension (src/, webview/, server/) (../../src/view/messages)',
    ]);
  });

  it('every .ts file of runtime/, hub/, src/, webview/ and server/ follows the rules', () => {
    const files = new Map<string, string>();
    for (const dir of ['runtime', 'hub', 'src', 'webview', 'server']) for (const f of tsFiles(join(ROOT, dir))) files.set(f, readFileSync(f, 'utf8'));
    assert.ok(files.size > 5, `found only ${files.size} files: is the scan looking in the right place?`);
    assert.ok(files.has(join(ROOT, 'hub', 'hub.ts')), 'the hub is scanned where it lives (hub/)');
    assert.deepEqual(checkImports(ROOT, files), []);
  });
});
