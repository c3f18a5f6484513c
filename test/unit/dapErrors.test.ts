// The adapter's DAP error table: one code per error, none shared, each message filled in from its arguments.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DAP_ERRORS, dapError } from '../../src/debug/dapErrors';

describe('DAP error table', () => {
  it('gives every error its own code', () => {
    const codes = Object.values(DAP_ERRORS).map((e) => e.code);
    assert.equal(new Set(codes).size, codes.length);
  });

  it('fills in a message', () => {
    assert.deepEqual(dapError('launchFailed', '/p/app.ts', 'ENOENT'), { code: 4003, message: 'Could not start /p/app.ts: ENOENT' });
  });

  it('is where the session takes its codes from (no number written at a call site)', () => {
    const session = readFileSync(new URL('../../src/debug/forkscopeSession.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(session, /sendErrorResponse\(response, \d/);
  });
});
