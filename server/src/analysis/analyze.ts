// Runs every rule over one source text and returns findings, the guarded main blocks (for code lenses)
// and the file model (for hovers). Pure: text in, data out. Never imports `vscode` or the LSP.
import ts from 'typescript';
import { FileModel } from './fileModel';
import { guardSense, targetSites } from './sites';
import { unguardedStart } from './unguardedStart';
import { unfindableTarget } from './unfindableTarget';
import { unserialisableArgument } from './unserialisableArgument';
import { unsharedState } from './unsharedState';
import { unreleasedLock } from './unreleasedLock';
import { unclosedPool } from './unclosedPool';
import { queueDrain } from './queueDrain';
import { tinyChunks } from './tinyChunks';
import type { Finding, MainBlock } from './types';

export interface Analysis {
  findings: Finding[];
  mainBlocks: MainBlock[];
  /** Undefined when the file does not use the runtime (nothing else was computed). */
  model: FileModel | undefined;
}

const EMPTY: Analysis = { findings: [], mainBlocks: [], model: undefined };

/** The cheap test first: a file that never mentions the package is not parsed at all. */
export function mentionsForkscope(text: string): boolean {
  return text.includes('forkscope');
}

export function analyze(text: string, fileName: string): Analysis {
  if (!mentionsForkscope(text)) return EMPTY;
  const sourceFile = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, scriptKind(fileName));
  const model = new FileModel(sourceFile);
  if (!model.importsForkscope) return EMPTY;
  const sites = targetSites(model);
  const findings = [
    ...unguardedStart(model),
    ...unfindableTarget(model, sites),
    ...unserialisableArgument(model, sites),
    ...unsharedState(model, sites),
    ...unreleasedLock(model),
    ...unclosedPool(model),
    ...queueDrain(model, sites),
    ...tinyChunks(model, sites),
  ];
  const mainBlocks = sourceFile.statements
    .filter((s): s is ts.IfStatement => ts.isIfStatement(s) && guardSense(model, s.expression) === 'main')
    .map((s) => ({ start: s.getStart(sourceFile), end: s.end }));
  return { findings: suppress(findings, sourceFile), mainBlocks, model };
}

function scriptKind(fileName: string): ts.ScriptKind {
  if (/\.tsx$/.test(fileName)) return ts.ScriptKind.TSX;
  if (/\.jsx$/.test(fileName)) return ts.ScriptKind.JSX;
  if (/\.[cm]?js$/.test(fileName)) return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

/**
 * `// forkscope-disable-next-line [code …]` silences the next line (all codes, or the ones named), for
 * the rare program that means it, such as a demo of state that is not shared.
 */
function suppress(findings: Finding[], sf: ts.SourceFile): Finding[] {
  if (!sf.text.includes('forkscope-disable')) return findings;
  const byLine = new Map<number, string[] | 'all'>();
  const re = /\/\/\s*forkscope-disable-next-line\b([^\n]*)/g;
  for (let m = re.exec(sf.text); m; m = re.exec(sf.text)) {
    const line = sf.getLineAndCharacterOfPosition(m.index).line + 1;
    const codes = m[1]!
      .trim()
      .split(/[\s,]+/)
      .filter((c) => /^[a-z-]+$/.test(c));
    byLine.set(line, codes.length === 0 ? 'all' : codes);
  }
  return findings.filter((f) => {
    const rule = byLine.get(sf.getLineAndCharacterOfPosition(f.start).line);
    return rule === undefined || (rule !== 'all' && !rule.includes(f.code));
  });
}
