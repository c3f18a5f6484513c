// The server's hover table (server/src/hoverDocs.ts) against the runtime's own TSDoc: every name the runtime
// documents with a `Python:` twin must name the same twin in the hover. Pure: parses source files only.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { HOVER_DOCS, hoverMarkdown } from '../../server/src/hoverDocs';

const RUNTIME = join(__dirname, '..', '..', 'runtime', 'src');

/** Exported top-level names of the runtime's modules → the twin their TSDoc names after `Python:`. */
export function runtimeTwins(files: { name: string; text: string }[]): Map<string, string> {
  const twins = new Map<string, string>();
  for (const { name, text } of files) {
    const sf = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true);
    for (const s of sf.statements) {
      const exported = ts.canHaveModifiers(s) && ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (!exported) continue;
      const names = ts.isVariableStatement(s)
        ? s.declarationList.declarations.map((d) => d.name.getText(sf))
        : 'name' in s && s.name
          ? [(s.name as ts.Identifier).text]
          : [];
      const docs = ts
        .getJSDocCommentsAndTags(s)
        .map((d) => d.getText(sf))
        .join('\n');
      const twin = /Python:\s*([^\n*]+)/.exec(docs)?.[1]?.trim();
      if (twin) for (const n of names) twins.set(n, twin);
    }
  }
  return twins;
}

/** `multiprocessing.Pool`, `Pool()`, `multiprocessing.pool.Pool` → `pool` for comparison. */
function simple(twin: string): string {
  return twin
    .split(/\s*\/\s*/)[0]!
    .replace(/\(\)$/, '')
    .split('.')
    .pop()!
    .toLowerCase()
    .replace(/_/g, '');
}

function runtimeFiles(): { name: string; text: string }[] {
  return readdirSync(RUNTIME)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ name: f, text: readFileSync(join(RUNTIME, f), 'utf8') }));
}

describe('hover docs', () => {
  it('runtimeTwins() reads `Python:` from TSDoc (and ignores undocumented or private names)', () => {
    const twins = runtimeTwins([
      {
        name: 'a.ts',
        text: '/** A pool. Python: multiprocessing.Pool */\nexport class Pool {}\n/** No twin. */\nexport function f() {}\n/** Python: x */\nclass Hidden {}\n',
      },
    ]);
    assert.deepEqual([...twins], [['Pool', 'multiprocessing.Pool']]);
  });

  it("names the same Python twin as the runtime's TSDoc", () => {
    const twins = runtimeTwins(runtimeFiles());
    const mismatches: string[] = [];
    for (const [name, doc] of Object.entries(HOVER_DOCS)) {
      const twin = twins.get(name);
      if (twin !== undefined && simple(twin) !== simple(doc.python)) mismatches.push(`${name}: hover says ${doc.python}, runtime says ${twin}`);
    }
    assert.deepEqual(mismatches, []);
  });

  it('renders the signature, the sentence and the Python line', () => {
    const md = hoverMarkdown('Queue')!;
    assert.match(md, /^```typescript\nnew Queue\(\{ maxsize \}\)\n```\n/);
    assert.match(md, /\*Python:\* `multiprocessing\.Queue`$/);
    assert.equal(hoverMarkdown('notARuntimeName'), undefined);
  });
});
