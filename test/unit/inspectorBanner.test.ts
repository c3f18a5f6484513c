// The inspector's own lines on a launched program's stderr (src/debug/nodeLauncher.ts) stay out of the Debug
// Console, in the forms of every supported Node: 20 links to /en/docs/inspector, 22 and 24 to /learn/….
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withoutInspectorBanner } from '../../src/debug/nodeLauncher';

describe('the inspector banner filter', () => {
  it('drops Node 20, 22 and 24 banners and keeps the program own stderr', () => {
    const node20 = 'Debugger listening on ws://127.0.0.1:9229/abc\nFor help, see: https://nodejs.org/en/docs/inspector\nDebugger attached.\n';
    const node24 = 'Debugger listening on ws://127.0.0.1:9229/abc\nFor help, see: https://nodejs.org/learn/getting-started/debugging\nDebugger attached.\n';
    assert.equal(withoutInspectorBanner(`${node20}oops\n`), 'oops\n');
    assert.equal(withoutInspectorBanner(`${node24}oops\n`), 'oops\n');
    assert.equal(withoutInspectorBanner('For help, see the README\n'), 'For help, see the README\n');
  });
});
