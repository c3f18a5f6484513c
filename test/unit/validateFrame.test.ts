// The hub's check of control-channel frames: an object's kind is one the protocol lists, whatever a process sends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isEvent } from '../../hub/validateFrame';
import { OBJECT_KINDS } from '../../runtime/src/protocol';

describe('isEvent', () => {
  it('takes an object and a wait on it of every kind the protocol lists, and no other kind', () => {
    for (const kind of OBJECT_KINDS) {
      assert.equal(isEvent({ t: 'object', ts: 1, id: 'o1', kind }), true, kind);
      assert.equal(isEvent({ t: 'state', ts: 1, state: 'waiting', on: { id: 'o1', kind } }), true, kind);
    }
    for (const kind of ['Socket', 'queue', '', '__proto__', 7, null]) {
      assert.equal(isEvent({ t: 'object', ts: 1, id: 'o1', kind }), false, String(kind));
      assert.equal(isEvent({ t: 'state', ts: 1, state: 'waiting', on: { id: 'o1', kind } }), false, String(kind));
    }
  });

  it('takes a list of at most 1024 well-formed items and refuses a longer one or one bad item', () => {
    const pool = (busy: unknown) => ({
      t: 'pool',
      ts: 1,
      pool: 'p',
      queued: 0,
      started: 0,
      returned: 0,
      dropped: 0,
      finished: 0,
      runMs: 0,
      done: 0,
      failed: 0,
      busy,
    });
    assert.equal(isEvent(pool([])), true);
    assert.equal(isEvent(pool(['100', '100/2'])), true);
    assert.equal(isEvent(pool(Array.from({ length: 1024 }, (_, i) => String(i)))), true);
    assert.equal(isEvent(pool(Array.from({ length: 1025 }, (_, i) => String(i)))), false);
    assert.equal(isEvent(pool(['100', 'x'])), false);
    assert.equal(isEvent(pool('100')), false);
    const manager = (calls: unknown) => ({ t: 'manager', ts: 1, manager: 'm', side: 'call', calls });
    const call = { id: 'c1', typeid: 'dict', method: 'get', start: 1, ms: 2, outcome: 'ok' };
    assert.equal(isEvent(manager([call])), true);
    assert.equal(isEvent(manager([call, { ...call, outcome: 'maybe' }])), false);
    assert.equal(isEvent(manager({ 0: call, length: 1 })), false);
  });
});
