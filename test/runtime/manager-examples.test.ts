// Python's documentation examples of custom managers, run as a user would (examples/mp_*.ts), output checked.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runProgram } from './runProgram';

describe('custom manager examples', () => {
  it("mp_newtype.ts prints what Python's mp_newtype.py prints", async () => {
    const { code, stdout, stderr } = await runProgram('examples/mp_newtype.ts', { deadlineMs: 120_000 });
    assert.equal(code, 0, stderr);
    const dashes = '-'.repeat(20);
    const squares = Array.from({ length: 10 }, (_, i) => `<${i * i}>`).join(' ');
    const expected = [
      dashes,
      'you called Foo.f()',
      'you called Foo.g()',
      dashes,
      'you called Foo.g()',
      'you called Foo._h()',
      dashes,
      squares,
      dashes,
      'op.add(23, 45) = 68',
      'op.pow(2, 94) = 19807040628566084398385987584',
    ];
    const lines = stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, expected.length), expected);
    assert.match(lines.slice(expected.length).join('\n'), /^op\._exposed_ = \[\s*'abs',\s*'add',[^]*'truediv'\s*\]$/);
  });
});
