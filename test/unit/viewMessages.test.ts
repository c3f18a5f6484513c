// The host's allowlist + schema check for messages from the webview, and the reported-site check behind openSource.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isWebviewToHost } from '../../src/view/messages';
import { findReportedSite } from '../../src/view/reportedSites';
import { busyProgram, deadlockedProgram } from '../fixtures/view-snapshots';

describe('isWebviewToHost', () => {
  it('accepts every message the webview sends', () => {
    for (const message of [
      { type: 'ready' },
      { type: 'launchActiveFile' },
      { type: 'toggleSingleProcess' },
      { type: 'pauseAll' },
      { type: 'exportTrace' },
      { type: 'revealProcess', key: '4711' },
      { type: 'revealProcess', key: '4711/2' },
      { type: 'processAction', key: '4711', action: 'pause' },
      { type: 'processAction', key: '4711', action: 'continue' },
      { type: 'processAction', key: '4711', action: 'stop' },
      { type: 'openSource', file: '/work/examples/pool.ts', line: 3, column: 1 },
      { type: 'debugRemoteWorker', cluster: '10.0.0.5:6379/forkscope:tasks', worker: 'hostA-4711' },
    ])
      assert.equal(isWebviewToHost(message), true, JSON.stringify(message));
  });

  it('rejects unknown types, extra or missing fields, wrong types and odd prototypes', () => {
    const hostile = JSON.parse('{"type":"ready","__proto__":{"polluted":true}}');
    for (const message of [
      null,
      undefined,
      'ready',
      ['ready'],
      {},
      { type: 'runCommand', command: 'workbench.action.terminal.new' },
      { type: 'constructor' },
      { type: 'toString' },
      { type: 'hasOwnProperty' },
      { type: 'ready', extra: 1 },
      hostile,
      { type: 'revealProcess' },
      { type: 'revealProcess', key: 4711 },
      { type: 'revealProcess', key: '4711; rm -rf /' },
      { type: 'revealProcess', key: '../4711' },
      { type: 'processAction', key: '4711', action: 'kill' },
      { type: 'processAction', key: '4711' },
      { type: 'openSource', file: '', line: 1, column: 1 },
      { type: 'debugRemoteWorker', cluster: 'c', worker: 'a b; rm -rf /' },
      { type: 'debugRemoteWorker', cluster: '', worker: 'hostA' },
      { type: 'debugRemoteWorker', cluster: 'c' },
      { type: 'openSource', file: 'a.ts', line: 0, column: 1 },
      { type: 'openSource', file: 'a.ts', line: 1.5, column: 1 },
      { type: 'openSource', file: 'a\0.ts', line: 1, column: 1 },
      { type: 'openSource', file: 'a.ts', line: '1', column: 1 },
      Object.assign(Object.create({ inherited: true }), { type: 'ready' }),
      new Map([['type', 'ready']]),
    ])
      assert.equal(isWebviewToHost(message), false, String(JSON.stringify(message)));
  });
});

describe('findReportedSite', () => {
  it('finds only locations the program reported: waits, queue and lock sites, acquisitions, waiters, deadlock steps', () => {
    const busy = busyProgram();
    for (const site of [
      { file: '/work/examples/consumer.ts', line: 20, column: 5 },
      { file: '/work/examples/producer.ts', line: 8, column: 15 },
      { file: '/work/examples/producer.ts', line: 12, column: 11 },
    ])
      assert.deepEqual(findReportedSite(busy, site), site);
    assert.deepEqual(findReportedSite(deadlockedProgram(), { file: '/work/examples/deadlock.ts', line: 24, column: 9 })?.line, 24);
    assert.equal(findReportedSite(busy, { file: '/etc/passwd', line: 1, column: 1 }), undefined);
    assert.equal(findReportedSite(busy, { file: '/work/examples/producer.ts', line: 13, column: 11 }), undefined);
    assert.equal(findReportedSite(null, { file: '/work/examples/producer.ts', line: 12, column: 11 }), undefined);
  });
});
