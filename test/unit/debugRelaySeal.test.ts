// The remote debug channel's sealing (runtime/src/bullmq/debugRelay.ts): a frame opens only with the same secret,
// session and direction, in its place in order; a tampered, replayed or reordered frame is an AuthenticationError.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Seal, checkDebugKey } from '../../runtime/src/bullmq/debugRelay';

const SECRET = 'a-debug-secret-of-32-characters!';
const SESSION = '0123456789abcdef0123456789abcdef';

describe('remote debug sealing', () => {
  it('frames open in order with the same secret, session and direction', () => {
    const out = new Seal(SECRET, SESSION, 'up');
    const inn = new Seal(SECRET, SESSION, 'up');
    const a = out.seal({ op: 'open', c: 1 });
    const b = out.seal({ op: 'data', c: 1, d: 'aGk=' });
    assert.deepEqual(inn.open(a), { op: 'open', c: 1 });
    assert.deepEqual(inn.open(b), { op: 'data', c: 1, d: 'aGk=' });
    assert.ok(!Buffer.from(a, 'base64').toString('latin1').includes('open'), 'the frame is not in clear');
  });

  it('another key, session or direction, a tampered, replayed or reordered frame fails authentication', () => {
    const frames = (() => {
      const s = new Seal(SECRET, SESSION, 'up');
      return [s.seal({ op: 'open', c: 1 }), s.seal({ op: 'close', c: 1 })];
    })();
    const fails = (seal: Seal, text: string) => assert.throws(() => seal.open(text), { name: 'AuthenticationError' });
    fails(new Seal('another-secret-of-enough-length', SESSION, 'up'), frames[0]!);
    fails(new Seal(SECRET, 'ffffffffffffffffffffffffffffffff', 'up'), frames[0]!);
    fails(new Seal(SECRET, SESSION, 'down'), frames[0]!);
    const raw = Buffer.from(frames[0]!, 'base64');
    raw[raw.length - 1]! ^= 1;
    fails(new Seal(SECRET, SESSION, 'up'), raw.toString('base64'));
    fails(new Seal(SECRET, SESSION, 'up'), frames[1]!); // reordered: the second frame first
    const replay = new Seal(SECRET, SESSION, 'up');
    replay.open(frames[0]!);
    fails(replay, frames[0]!); // replayed
  });

  it('a short or missing key is refused with what to do', () => {
    assert.throws(() => checkDebugKey('short', 'forkscope worker a'), /at least 16 characters \(--debug-key or FORKSCOPE_DEBUG_KEY\)/);
    assert.throws(() => checkDebugKey(undefined, 'forkscope debug-worker'), /forkscope debug-worker needs a debug key/);
  });
});
