// The telemetry client's pure parts, with no hub set: previews never run user code, call sites skip
// the runtime's own frames, and every call is a no-op.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as telemetry from '../../runtime/src/telemetry';

describe('telemetry', () => {
  it('does nothing with no hub', () => {
    assert.equal(telemetry.isReporting(), false);
    telemetry.emit({ t: 'queue', ts: 0, id: 'q', puts: 1, gets: 0, depth: 1 });
    telemetry.emitNow({ t: 'state', ts: 0, state: 'running' });
    assert.equal(telemetry.callSite(), undefined);
    assert.match(telemetry.objectCreated('Queue'), /^Queue-\d+-\d+$/);
    assert.notEqual(telemetry.objectCreated('Lock'), telemetry.objectCreated('Lock'));
  });

  it('preview() never runs a getter or a method, and stays short', () => {
    let ran = false;
    const hostile = {
      get secret() {
        ran = true;
        return 1;
      },
      toString() {
        ran = true;
        return 'x';
      },
      name: '<img onerror=alert(1)>',
    };
    assert.equal(telemetry.preview(hostile), '{secret: [Getter], toString: [Function], name: "<img onerror=alert(1)>"}');
    assert.equal(ran, false);
    class Job {
      id = 1;
    }
    assert.equal(telemetry.preview(new Job()), '{…}');
    assert.equal(telemetry.preview(new Map([[1, 2]])), '[Map]');
    assert.equal(telemetry.preview([1, 'a', null, undefined, 2n]), '[1, "a", null, undefined, 2n]');
    assert.equal(telemetry.preview(new Uint8Array(10)), 'Uint8Array(10 bytes)');
    const long = telemetry.preview('x'.repeat(10_000));
    assert.ok(long.length <= 120 && long.endsWith('…'));
    const deep = telemetry.preview({ a: { b: { c: { d: 1 } } } });
    assert.equal(deep, '{a: {b: {…}}}');
  });

  it('callSite() names the first frame outside the runtime', function namedCaller() {
    const site = telemetry.callSite({ always: true });
    assert.equal(site?.file, __filename);
    assert.ok(site!.line > 40 && site!.column > 0);
  });
});
