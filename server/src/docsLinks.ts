// Where a diagnostic's doc link points: a page that exists wherever the server runs. In a checkout that is
// docs/diagnostics.md; in the installed extension (whose .vsix ships no docs folder) the README's Diagnostics
// table. Node's fs only; never imports `vscode`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The first diagnostics page found near the server: `dir` is the server's own folder (`dist/` when bundled,
 * `server/src/` under tsx). Each candidate names every code at a line of its own.
 */
export function findDocsUrl(dir: string): string | undefined {
  const root = /[\\/]server[\\/]src$/.test(dir) ? join(dir, '..', '..') : join(dir, '..');
  // vsce renames README.md to readme.md inside the .vsix.
  const candidates = [join(root, 'docs', 'diagnostics.md'), join(root, 'readme.md'), join(root, 'README.md')];
  const found = candidates.find((file) => existsSync(file));
  return found === undefined ? undefined : pathToFileURL(found).href;
}

/** Each document's code → line (1-based), read once: a file's headings do not move while the server runs. */
const linesByUrl = new Map<string, Map<string, number>>();

/**
 * The link for one code. A web page is linked by its heading anchor (`…#unguarded-start`); a local file by
 * the line naming the code (`…#L28`), which is how VS Code opens a file link at a place.
 */
export function docLink(docsUrl: string, code: string): string {
  if (!docsUrl.startsWith('file:')) return `${docsUrl}#${code}`;
  const line = codeLines(docsUrl).get(code);
  return line === undefined ? docsUrl : `${docsUrl}#L${line}`;
}

function codeLines(docsUrl: string): Map<string, number> {
  let lines = linesByUrl.get(docsUrl);
  if (lines) return lines;
  lines = new Map();
  try {
    const text = readFileSync(fileURLToPath(docsUrl), 'utf8');
    text.split(/\r?\n/).forEach((line, i) => {
      // A heading `## code` (docs/diagnostics.md) or a table row opening with `` `code` `` (the README).
      const code = /^#{2,4} ([a-z][a-z-]*)\s*$/.exec(line)?.[1] ?? /^\| `([a-z][a-z-]*)` \|/.exec(line)?.[1];
      if (code !== undefined && !lines!.has(code)) lines!.set(code, i + 1);
    });
  } catch {
    // Unreadable: links open the page at its top.
  }
  linesByUrl.set(docsUrl, lines);
  return lines;
}
