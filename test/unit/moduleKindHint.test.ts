import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { moduleKindHint } from '../../runtime/src/moduleKindHint';

describe('moduleKindHint', () => {
  it("names the file of esbuild's cjs top-level await error and says what to change, on one line", () => {
    const error = new Error('Transform failed with 1 error:\n/app/main.ts:4:2: ERROR: Top-level await is currently not supported with the "cjs" output format');
    const hint = moduleKindHint(error)!;
    assert.match(
      hint,
      /^forkscope: \/app\/main\.ts uses top-level await, which a CommonJS package cannot run: add "type": "module" to its package\.json, or move the code into "async function main\(\) \{ … \}"/,
    );
    assert.equal(hint.includes('\n'), false);
  });

  it("covers Node's own CommonJS parse error", () => {
    assert.match(
      moduleKindHint(new SyntaxError('await is only valid in async functions and the top level bodies of modules')) ?? '',
      /^forkscope: the program uses top-level await/,
    );
  });

  it('covers Node\'s own parse of import statements in a "type": "commonjs" package (Node strips types itself)', () => {
    const hint = moduleKindHint(new SyntaxError('Cannot use import statement outside a module')) ?? '';
    assert.match(hint, /^forkscope: the program uses import statements in a package whose package\.json says "type": "commonjs".*: set "type": "module" there/);
    assert.equal(hint.includes('\n'), false);
  });

  it('stays quiet for other errors and for an error that already says what to change', () => {
    assert.equal(moduleKindHint(new Error('Cannot find module x')), undefined);
    assert.equal(
      moduleKindHint(
        new SyntaxError(
          'Top-level await is currently not supported with the "cjs" output format (this file is CommonJS: add "type": "module" to its package.json, or rename it to .mts, to use top-level await)',
        ),
      ),
      undefined,
    );
  });
});
