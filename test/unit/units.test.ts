// One size formatter for the terminal tree and the view: the same bytes read the same in both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes } from '../../hub/units';
import { formatBytes as viewFormatBytes } from '../../webview/viewState';

test('sizes read alike everywhere', () => {
  assert.equal(viewFormatBytes, formatBytes, 'the view uses the one formatter');
  assert.deepEqual([0, 1023, 204_800, 3_355_443, 5 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '200.0 KB', '3.2 MB', '5.00 GB']);
  assert.equal(formatBytes(undefined), '–');
});
