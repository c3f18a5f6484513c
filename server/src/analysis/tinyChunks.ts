// Rule `tiny-chunks` (a hint): mapping with `chunksize: 1` sends every item in its own round trip;
// for small tasks the default chunk size (Python's heuristic) is many times faster.
import ts from 'typescript';
import { peel } from './fileModel';
import { optionProps, type TargetSite } from './sites';
import type { Finding } from './types';

export function tinyChunks(sites: TargetSite[], text: string): Finding[] {
  const findings: Finding[] = [];
  for (const site of sites) {
    if (!/\.(map|mapAsync|imap|imapUnordered|starmap|starmapAsync)$/.test(site.api) || !ts.isCallExpression(site.call)) continue;
    for (const arg of site.call.arguments.slice(1)) {
      const e = peel(arg);
      if (!ts.isObjectLiteralExpression(e)) continue;
      const value = optionProps(e).get('chunksize');
      if (!value || !ts.isNumericLiteral(value) || Number(value.text) !== 1) continue;
      const property = value.parent;
      const fixes = [];
      if (ts.isPropertyAssignment(property)) {
        const isOnly = e.properties.length === 1;
        const start = isOnly ? arg.getStart() : property.getStart();
        let end = isOnly ? arg.end : property.end;
        if (!isOnly && text[end] === ',') end++;
        while (!isOnly && text[end] === ' ') end++;
        // With no other option left, drop the argument and its comma too.
        const argStart = isOnly ? text.lastIndexOf(',', start) : start;
        fixes.push({ title: 'Use the default chunk size', isPreferred: true, edits: [{ start: argStart, end, newText: '' }] });
      }
      findings.push({
        code: 'tiny-chunks' as const,
        severity: 'hint' as const,
        message: `\`chunksize: 1\` sends every item to a worker in its own message. For small tasks that round trip costs more than the work; the default chunk size batches items (Python: \`chunksize\`).`,
        start: property.getStart(),
        end: property.end,
        fixes,
      });
    }
  }
  return findings;
}
