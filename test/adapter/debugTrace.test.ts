// The adapter's `forkscope/exportTrace` request (the view's Export Trace): a launched program under the real hub
// and launcher, its processes recorded from the start, the Chrome trace file written on request and naming each
// process. The child-session sink is injected and acts as the debugger over CDP. Needs `npm run build`.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hub } from '../../hub/hub';
import { releaseInspector } from '../../src/debug/inspectorRelease';
import { killProgram, realLauncher, repo, startDebugClient, type DebugHarness } from './debugClient';
import { until, isAlive as alive } from './polling';

const fixture = fileURLToPath(new URL('../fixtures/debug-attach.ts', import.meta.url));

describe('ForkscopeSession forkscope/exportTrace', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-trace-'));
  let adapter: DebugHarness | undefined;
  let rootPid: number | undefined;
  after(async () => {
    await killProgram(rootPid);
    await adapter?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the Chrome trace of the running program, every process named', async () => {
    const hubs: Hub[] = [];
    adapter = await startDebugClient({
      launcher: realLauncher((hub) => hubs.push(hub)),
      startChildSession: async (configuration) => {
        await releaseInspector(configuration.websocketAddress as string);
        return true;
      },
    });
    const { dc, outputs } = adapter;
    const launched = dc.waitForEvent('forkscope/launched', 30_000);
    await dc.launch({ program: fixture, args: ['60000'], cwd: repo });
    rootPid = (await launched).body.pid as number;
    await until('both children ran', () => outputs.join('').match(/child ran in Process-[12]/g)?.length === 2);
    // Each child said hello before running user code, so the trace knows it by now.
    assert.equal(hubs.length, 1);

    const target = path.join(dir, 'trace.json');
    const response = await dc.customRequest('forkscope/exportTrace', { path: target });
    assert.equal(response.body.path, target);
    const trace = JSON.parse(readFileSync(target, 'utf8')) as { traceEvents: Array<{ name: string; ph: string; args?: { name?: string } }> };
    // A process may say hello twice (the preload, then the runtime): its name metadata repeats, harmlessly.
    const names = [...new Set(trace.traceEvents.filter((e) => e.name === 'process_name').map((e) => e.args!.name!.split(' · ')[0]))].sort();
    assert.deepEqual(names, ['MainProcess', 'Process-1', 'Process-2']);

    await assert.rejects(dc.customRequest('forkscope/exportTrace', {}), /needs a "path"/);
    await dc.terminateRequest();
    // Gone, or a zombie the adapter's process has not reaped yet: either way no longer running.
    await until('terminate ended the program', () => !alive(rootPid!), 5_000);
  });
});
