// How `forkscope run` and the debug adapter make Node run a TypeScript program and every process it
// starts: the NODE_OPTIONS to add, chosen from what the Node in use can do and which loader is
// installed where. Pure apart from looking up files; no `vscode`.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { NodeTypeScript } from '../runtime/src/protocol';

export const TYPESCRIPT_PROGRAM = /\.(?:[cm]?ts|tsx)$/;

/**
 * NODE_OPTIONS entries (each `flag`, `value` or just `flag`) for `program`, or a one-line error. Children
 * inherit NODE_OPTIONS, and the runtime's bootstrap loads TypeScript itself in worker threads.
 * `ownRuntime` is the folder of the runtime copy that came with the caller (the CLI's, the extension's).
 */
export function typeScriptNodeOptions(program: string, node: NodeTypeScript, searchFrom: string[], ownRuntime?: string): Array<[string, string?]> | string {
  if (!TYPESCRIPT_PROGRAM.test(program)) return [];
  // The program's own forkscope first, so the loader matches the runtime it imports; then the caller's copy.
  const loader = findInPackage(searchFrom, 'forkscope', 'dist/loader.cjs') ?? (ownRuntime && existsFile(path.join(ownRuntime, 'loader.cjs')));
  if (node.stripsTypes) {
    // Node runs the TypeScript itself; transform mode also takes enums and parameter properties.
    const options: Array<[string, string?]> = node.transformTypes ? [['--experimental-transform-types']] : [];
    // The loader then only resolves `./x.js` to x.ts and keeps transform mode's warning out of the output.
    if (loader) options.push(['--require', loader]);
    return options;
  }
  if (loader) return [['--require', loader]];
  const tsx = findTsxLoader(searchFrom);
  if (tsx) return [['--import', pathToFileURL(tsx).href]];
  return `cannot run ${path.basename(program)}: this Node cannot run TypeScript by itself and no forkscope loader was found (npm install forkscope in the program's project)`;
}

/** tsx's `--import` entry, found from the program's folder first (the project's own tsx), then ours. */
export function findTsxLoader(searchFrom: string[]): string | undefined {
  return findInPackage(searchFrom, 'tsx', 'dist/loader.mjs');
}

function existsFile(file: string): string | undefined {
  return existsSync(file) ? file : undefined;
}

/** `file` inside package `name` as Node would resolve it from each folder in turn; the first that exists. */
export function findInPackage(searchFrom: string[], name: string, file: string): string | undefined {
  for (const dir of searchFrom) {
    try {
      const manifest = createRequire(path.join(dir, 'noop.js')).resolve(`${name}/package.json`);
      const found = path.join(path.dirname(manifest), ...file.split('/'));
      if (existsSync(found)) return found;
    } catch {
      // Not installed there; try the next place.
    }
  }
  return undefined;
}
