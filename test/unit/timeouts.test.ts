import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkTimeout, readTimeout } from '../../runtime/src/timeouts';
import { decodeWait, encodeWait } from '../../runtime/src/broker/waiters';

describe('readTimeout', () => {
  it('reads { timeout } and "no limit"', () => {
    assert.equal(readTimeout({ timeout: 100 }, 'f'), 100);
    assert.equal(readTimeout({}, 'f'), undefined);
    assert.equal(readTimeout(undefined, 'f'), undefined);
    assert.equal(readTimeout({ timeout: null }, 'f'), undefined);
    assert.equal(readTimeout({ timeout: Infinity }, 'f'), undefined);
  });
  it('takes a bare number only where Python takes the timeout first', () => {
    assert.equal(readTimeout(100, 'Event.wait', true), 100);
    assert.throws(() => readTimeout(100, 'Queue.get'), TypeError);
  });
  it('a negative timeout means "do not wait"', () => {
    assert.equal(readTimeout(-1, 'Event.wait', true), 0);
    assert.equal(readTimeout({ timeout: -5 }, 'f'), 0);
  });
  it('refuses NaN, strings and non-numeric timeouts with a TypeError naming the call', () => {
    assert.throws(() => readTimeout(NaN, 'Event.wait', true), /Event\.wait/);
    assert.throws(() => readTimeout('100', 'Event.wait', true), TypeError);
    assert.throws(() => readTimeout({ timeout: '100' }, 'f'), TypeError);
    assert.throws(() => readTimeout({ timeout: NaN }, 'f'), TypeError);
    assert.throws(() => checkTimeout({}, 'f'), TypeError);
  });
});

describe('encodeWait', () => {
  it('sends a negative timeout as 0, not as "no timeout"', () => {
    assert.equal(decodeWait(encodeWait(true, -1)).timeout, 0);
    assert.equal(decodeWait(encodeWait(true, undefined)).timeout, undefined);
  });
});
