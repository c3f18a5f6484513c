// Forkscope's language server: multi-process pitfalls flagged as you type, with quick fixes, code lenses
// over the guarded main block and hovers with the Python twin. Never imports `vscode`.
import { CodeActionKind, createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind } from 'vscode-languageserver/node';
import type { Diagnostic } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DocumentAnalyses } from './documentAnalyses';
import { findDocsUrl } from './docsLinks';
import { codeActionsOf, codeLensesOf, diagnosticsOf, hoverOf } from './lspFeatures';
import { warmUp } from './warmUp';

/** What the client may pass in `initializationOptions`. */
export interface ForkscopeServerOptions {
  /** The page the diagnostics' doc links point into; by default the one found beside the server (docsLinks.ts). */
  docsUrl?: string;
}

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const analyses = new DocumentAnalyses();
let docsUrl = findDocsUrl(__dirname);

connection.onInitialize((params) => {
  const options = (params.initializationOptions ?? {}) as ForkscopeServerOptions;
  if (typeof options.docsUrl === 'string' && options.docsUrl !== '') docsUrl = options.docsUrl;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      codeLensProvider: { resolveProvider: false },
      hoverProvider: true,
    },
    serverInfo: { name: 'forkscope-language-server' },
  };
});

connection.onInitialized(() => {
  // After the reply, so the client is not kept waiting; before any document, usually.
  setImmediate(() => warmUp());
});

documents.onDidChangeContent(({ document }) => {
  let diagnostics: Diagnostic[];
  try {
    diagnostics = diagnosticsOf(document, analyses.get(document), docsUrl);
  } catch (error) {
    // A rule that trips on odd code must not take the server down; the user keeps editing.
    connection.console.error(`forkscope: analysis of ${document.uri} failed: ${error instanceof Error ? error.stack : String(error)}`);
    diagnostics = [];
  }
  void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics });
});

documents.onDidClose(({ document }) => {
  analyses.forget(document.uri);
  void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
});

connection.onCodeAction(({ textDocument, context }) => {
  const document = documents.get(textDocument.uri);
  return document ? codeActionsOf(document, analyses.get(document), context.diagnostics) : [];
});

connection.onCodeLens(({ textDocument }) => {
  const document = documents.get(textDocument.uri);
  return document ? codeLensesOf(document, analyses.get(document)) : [];
});

connection.onHover(({ textDocument, position }) => {
  const document = documents.get(textDocument.uri);
  return document ? hoverOf(document, analyses.get(document), position) : null;
});

documents.listen(connection);
connection.listen();
