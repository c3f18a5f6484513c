// Where the language server's doc links point (server/src/docsLinks.ts): in an installed extension, whose .vsix
// holds no docs folder, every code links to its row in the README's Diagnostics table; a web page by anchor.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { docLink, findDocsUrl } from '../../server/src/docsLinks';

const ROOT = join(__dirname, '..', '..');
/** The codes docs/diagnostics.md documents, one `## code` heading each. */
const CODES = [...readFileSync(join(ROOT, 'docs', 'diagnostics.md'), 'utf8').matchAll(/^## ([a-z-]+)$/gm)].map((m) => m[1]!);

describe('diagnostic doc links', () => {
  const extension = mkdtempSync(join(tmpdir(), 'fs-docs-'));
  after(() => rmSync(extension, { recursive: true, force: true }));

  it('the installed extension (dist/server.js beside readme.md, no docs/) links each code to its README row', () => {
    assert.ok(CODES.length >= 9, CODES.join(', '));
    mkdirSync(join(extension, 'dist'));
    copyFileSync(join(ROOT, 'README.md'), join(extension, 'readme.md'));
    const url = findDocsUrl(join(extension, 'dist'));
    assert.equal(url, pathToFileURL(join(extension, 'readme.md')).href);
    const lines = readFileSync(join(extension, 'readme.md'), 'utf8').split('\n');
    for (const code of CODES) {
      const line = /#L(\d+)$/.exec(docLink(url!, code))?.[1];
      assert.ok(line, `${code} has a row in the README's Diagnostics table`);
      assert.ok(lines[Number(line) - 1]!.startsWith(`| \`${code}\` |`), lines[Number(line) - 1]);
    }
  });

  it('a checkout links into docs/diagnostics.md, from the bundle (dist/) or the sources (server/src/)', () => {
    const docs = pathToFileURL(join(ROOT, 'docs', 'diagnostics.md')).href;
    assert.equal(findDocsUrl(join(ROOT, 'dist')), docs);
    assert.equal(findDocsUrl(join(ROOT, 'server', 'src')), docs);
  });

  it('a web page is linked by the heading anchor; an unknown code opens a file at its top', () => {
    assert.equal(docLink('https://docs.example/diagnostics.md', 'tiny-chunks'), 'https://docs.example/diagnostics.md#tiny-chunks');
    const docs = pathToFileURL(join(ROOT, 'docs', 'diagnostics.md')).href;
    assert.equal(docLink(docs, 'no-such-code'), docs);
  });
});
