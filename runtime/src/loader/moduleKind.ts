// Which module system a TypeScript file belongs to, as Node decides it for JavaScript: `.mts` is ESM,
// `.cts` CommonJS, `.ts`/`.tsx` follow the nearest package.json's "type". Node's modules only.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type ModuleKind = 'cjs' | 'esm';

export const TYPESCRIPT_FILE = /\.(?:[cm]?ts|tsx)$/;

const typeByDir = new Map<string, ModuleKind>();

/** The module kind of `file` (an absolute path); undefined when it is not TypeScript. */
export function moduleKindOf(file: string): ModuleKind | undefined {
  if (!TYPESCRIPT_FILE.test(file)) return undefined;
  if (file.endsWith('.mts')) return 'esm';
  if (file.endsWith('.cts')) return 'cjs';
  return packageType(dirname(file));
}

/** The module kind Node gives a JavaScript file by its name and package (`.cjs`, `.mjs`, `.js`); undefined otherwise. */
export function javaScriptKindOf(file: string): ModuleKind | undefined {
  if (file.endsWith('.cjs')) return 'cjs';
  if (file.endsWith('.mjs')) return 'esm';
  if (file.endsWith('.js')) return packageType(dirname(file));
  return undefined;
}

function packageType(dir: string): ModuleKind {
  const known = typeByDir.get(dir);
  if (known) return known;
  let kind: ModuleKind;
  try {
    kind = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type?: string }).type === 'module' ? 'esm' : 'cjs';
  } catch (error) {
    // No package.json here (or not JSON): the parent folder decides, and past the root, CommonJS.
    const parent = dirname(dir);
    kind = (error as NodeJS.ErrnoException).code === 'ENOENT' && parent !== dir && !dir.endsWith('node_modules') ? packageType(parent) : 'cjs';
  }
  typeByDir.set(dir, kind);
  return kind;
}
