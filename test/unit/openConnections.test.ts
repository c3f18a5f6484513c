// The view's connections are let go when their webview closes, and all of them when the extension deactivates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenConnections } from '../../src/view/openConnections';

/** A webview's onDidDispose: fire() closes it, and it counts its live listeners. */
function closeEvent() {
  const listeners = new Set<() => void>();
  const event = (listener: () => void) => {
    listeners.add(listener);
    return { dispose: () => listeners.delete(listener) };
  };
  return { event, fire: () => [...listeners].forEach((l) => l()), listening: () => listeners.size };
}

function connection() {
  let disposed = 0;
  return { dispose: () => void disposed++, disposed: () => disposed };
}

test('a closed webview’s connection is disposed once and no longer held', () => {
  const open = new OpenConnections();
  const panels = Array.from({ length: 100 }, () => ({ closed: closeEvent(), connection: connection() }));
  for (const p of panels) open.hold(p.connection, p.closed.event);
  assert.equal(open.size, 100);
  for (const p of panels.slice(0, 99)) p.closed.fire();
  assert.equal(open.size, 1, 'only the open panel is held');
  for (const p of panels.slice(0, 99)) {
    assert.equal(p.connection.disposed(), 1);
    assert.equal(p.closed.listening(), 0, 'the close listener is let go too');
  }
  open.dispose();
  assert.equal(panels[99]!.connection.disposed(), 1);
  assert.equal(open.size, 0);
});
