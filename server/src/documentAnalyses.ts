// Analyses per open document, cached by version: a document is parsed once per edit, and code actions,
// lenses and hovers asked for the same version reuse that work. Never imports `vscode`.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze, type Analysis } from './analysis/analyze';

export class DocumentAnalyses {
  readonly #cache = new Map<string, { version: number; analysis: Analysis }>();

  get(document: TextDocument): Analysis {
    const cached = this.#cache.get(document.uri);
    if (cached && cached.version === document.version) return cached.analysis;
    const analysis = analyze(document.getText(), fileNameOf(document.uri));
    this.#cache.set(document.uri, { version: document.version, analysis });
    return analysis;
  }

  forget(uri: string): void {
    this.#cache.delete(uri);
  }
}

/** The file name the parser needs to pick TS, TSX or JS; untitled documents count as TypeScript. */
function fileNameOf(uri: string): string {
  const path = decodeURIComponent(uri.replace(/[?#].*$/, ''));
  return /\.[cm]?[jt]sx?$/.test(path) ? path : `${path}.ts`;
}
