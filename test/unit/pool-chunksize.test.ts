// defaultChunksize follows CPython's Pool._map_async: divmod(len, workers * 4), rounded up.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultChunksize } from '../../runtime/src/pool';

describe('defaultChunksize', () => {
  it('matches CPython for the usual sizes', () => {
    assert.equal(defaultChunksize(0, 2), 0);
    assert.equal(defaultChunksize(3, 5), 1);
    assert.equal(defaultChunksize(200_000, 2), 25_000);
    assert.equal(defaultChunksize(100, 2), 13);
    assert.equal(defaultChunksize(8, 2), 1);
    assert.equal(defaultChunksize(9, 2), 2);
  });
});
