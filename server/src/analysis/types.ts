// The shapes every rule produces: findings with offsets into the source text, and their fixes.
// Pure data: no LSP types (the server converts offsets to positions), no `vscode`.

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** A text replacement in the analysed source, by character offsets. */
export interface Edit {
  start: number;
  end: number;
  newText: string;
}

export interface Fix {
  title: string;
  edits: Edit[];
  /** The fix a user most likely wants (VS Code offers it on Ctrl+. first). */
  isPreferred?: boolean;
}

export interface Finding {
  /** Stable id, also the anchor of its page in docs/diagnostics.md. */
  code: DiagnosticCode;
  message: string;
  severity: Severity;
  start: number;
  end: number;
  fixes: Fix[];
}

export type DiagnosticCode =
  | 'unguarded-start'
  | 'unfindable-target'
  | 'unserialisable-argument'
  | 'unshared-state'
  | 'unreleased-lock'
  | 'unclosed-pool'
  | 'get-after-producers-ended'
  | 'join-before-drain'
  | 'tiny-chunks';

/** A range the code lenses sit above: the program's guarded main block. */
export interface MainBlock {
  start: number;
  end: number;
}
