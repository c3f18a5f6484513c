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
});
