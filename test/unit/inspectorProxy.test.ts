import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerFilter, isHiddenWorker, readFrames } from '../../src/debug/inspectorProxy';
import { maskedTextFrame } from '../../src/debug/cdpConnection';

const attached = (sessionId: string, url: string, title: string, waitingForDebugger: boolean) =>
  JSON.stringify({
    method: 'NodeWorker.attachedToWorker',
    params: { sessionId, workerInfo: { workerId: sessionId, type: 'worker', title, url }, waitingForDebugger },
  });

describe('InspectorProxy', () => {
  it("hides Node's own threads and the runtime's helpers, never the program's workers", () => {
    assert.equal(isHiddenWorker({ url: 'node:internal/modules/esm/worker', title: '[worker 2]' }), true);
    assert.equal(isHiddenWorker({ url: '', title: '[worker 1] forkscope debugger watchdog' }), true);
    assert.equal(isHiddenWorker({ url: 'file:///app/worker.ts', title: '[worker 3] Thread-1' }), false);
    assert.equal(isHiddenWorker({ url: '', title: '[worker 4]' }), false);
  });

  it("WorkerFilter drops the module hooks thread's events, runs it and detaches it, and keeps its own answers from js-debug", () => {
    const filter = new WorkerFilter();
    const hooks = filter.fromInspector(attached('2', 'node:internal/modules/esm/worker', '[worker 2]', true));
    assert.equal(hooks.forward, false);
    const requests = hooks.requests.map((r) => JSON.parse(r) as { id: number; method: string; params: { sessionId: string; message?: string } });
    assert.deepEqual(
      requests.map((r) => [r.method, r.params.sessionId]),
      [
        ['NodeWorker.sendMessageToWorker', '2'],
        ['NodeWorker.detach', '2'],
      ],
    );
    assert.match(requests[0]!.params.message!, /Runtime\.runIfWaitingForDebugger/);
    for (const r of requests) assert.equal(filter.fromInspector(JSON.stringify({ id: r.id, result: {} })).forward, false, "the answer is the proxy's");
    // The worker's answer may come after its detach.
    assert.equal(filter.fromInspector(JSON.stringify({ method: 'NodeWorker.detachedFromWorker', params: { sessionId: '2' } })).forward, false);
    assert.equal(
      filter.fromInspector(JSON.stringify({ method: 'NodeWorker.receivedMessageFromWorker', params: { sessionId: '2', message: '{"id":1,"result":{}}' } }))
        .forward,
      false,
    );
    // The program's own worker and everything else pass as they are.
    assert.deepEqual(filter.fromInspector(attached('3', 'file:///app/worker.ts', '[worker 3] Thread-1', true)), { forward: true, requests: [] });
    assert.equal(
      filter.fromInspector(JSON.stringify({ method: 'NodeWorker.receivedMessageFromWorker', params: { sessionId: '3', message: '{}' } })).forward,
      true,
    );
    assert.equal(filter.fromInspector(JSON.stringify({ id: 7, result: {} })).forward, true);
    assert.equal(filter.fromInspector(JSON.stringify({ method: 'Debugger.paused', params: {} })).forward, true);
  });

  it('WorkerFilter runs a no-op for a pause that has not landed (an idle event loop), and only then', () => {
    const filter = new WorkerFilter();
    filter.pauseRequested();
    const request = JSON.parse(filter.idlePause()!) as { id: number; method: string; params: { expression: string } };
    assert.equal(request.method, 'Runtime.evaluate');
    assert.match(request.params.expression, /sourceURL=forkscope-idle-pause\.js/);
    assert.equal(filter.fromInspector(JSON.stringify({ id: request.id, result: {} })).forward, false, "its answer is the proxy's");
    filter.pauseRequested();
    assert.equal(filter.fromInspector(JSON.stringify({ method: 'Debugger.paused', params: { callFrames: [] } })).forward, true);
    assert.equal(filter.idlePause(), undefined, 'the pause landed by itself');
  });

  it("WorkerFilter's leave turns every domain off and says when all its answers are in, even error answers", () => {
    const filter = new WorkerFilter();
    assert.equal(filter.left, false, 'nothing asked yet');
    const requests = filter.leave().map((r) => JSON.parse(r) as { id: number; method: string; params: object });
    assert.deepEqual(
      requests.map((r) => r.method),
      ['Debugger.disable', 'Runtime.disable', 'NodeWorker.disable', 'NodeRuntime.notifyWhenWaitingForDisconnect'],
    );
    assert.deepEqual(requests[3]!.params, { enabled: false });
    // An event queued before the answers still passes; the answers are the proxy's own.
    assert.equal(filter.fromInspector(JSON.stringify({ method: 'Debugger.scriptParsed', params: {} })).forward, true);
    for (const [i, r] of requests.entries()) {
      assert.equal(filter.left, false, `${requests.length - i} answers missing`);
      const answer = i === 2 ? { id: r.id, error: { code: -32601, message: "'NodeWorker.disable' wasn't found" } } : { id: r.id, result: {} };
      assert.equal(filter.fromInspector(JSON.stringify(answer)).forward, false);
    }
    assert.equal(filter.left, true);
  });

  it('readFrames splits whole frames, unmasks text, and leaves a partial frame for later', () => {
    const big = 'x'.repeat(300);
    const bytes = Buffer.concat([maskedTextFrame('{"id":1}'), maskedTextFrame(big)]);
    const { frames, rest } = readFrames(bytes.subarray(0, bytes.length - 5));
    assert.deepEqual(
      frames.map((f) => f.text),
      ['{"id":1}'],
    );
    assert.equal(rest.length, bytes.length - 5 - frames[0]!.raw.length);
    const all = readFrames(bytes);
    assert.deepEqual(
      all.frames.map((f) => f.text),
      ['{"id":1}', big],
    );
    assert.equal(all.rest.length, 0);
  });
});
