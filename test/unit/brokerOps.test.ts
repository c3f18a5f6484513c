// The wire op registry: every frame op the runtime sends is defined once in broker/ops.ts, no two share a
// code, each sits in its family's block, and no other runtime file defines an op of its own.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ops from '../../runtime/src/broker/ops';

const codes = Object.entries(ops).filter((entry): entry is [string, number] => typeof entry[1] === 'number');
const families: Record<string, RegExp> = {
  transport: /^OP_(HELLO|REPLY|ERROR|RING|DOORBELL)$/,
  queue: /^OP_QUEUE_/,
  doorbell: /^OP_DOORBELL_/,
  sync: /^OP_(ACQUIRE|RELEASE|EVENT_|COND_|NOTIFY|BARRIER_)/,
  pipe: /^OP_PIPE_/,
  push: /^(PUSH_|FIRST_PUSH_OP$)/,
};

describe('broker op codes', () => {
  it('no two ops share a code', () => {
    const byCode = new Map<number, string>();
    for (const [name, code] of codes) {
      assert.equal(byCode.get(code), undefined, `${name} and ${byCode.get(code)} both use op ${code}`);
      byCode.set(code, name);
    }
    assert.ok(codes.length >= 30, `only ${codes.length} ops found`);
  });

  it('every op fits the frame byte and sits in exactly one family block', () => {
    for (const [name, code] of codes) {
      assert.ok(Number.isInteger(code) && code >= 1 && code <= 255, `${name} = ${code} does not fit the u8 op`);
      const matches = Object.entries(families).filter(([family, pattern]) => pattern.test(name) && !(family === 'transport' && /^OP_DOORBELL_/.test(name)));
      assert.equal(matches.length, 1, `${name} belongs to ${matches.length} families`);
      const [first, last] = ops.OP_RANGES[matches[0]![0] as keyof typeof ops.OP_RANGES];
      assert.ok(code >= first && code <= last, `${name} = ${code} is outside its block ${first}–${last}`);
    }
  });

  it('no other runtime file defines an op code', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !path.endsWith(join('broker', 'ops.ts'))) {
          if (/\bconst (OP|PUSH)_[A-Z_]+\s*=/.test(readFileSync(path, 'utf8'))) offenders.push(path);
        }
      }
    };
    walk(join(import.meta.dirname, '../../runtime/src'));
    assert.deepEqual(offenders, [], 'define op codes in runtime/src/broker/ops.ts');
  });
});
