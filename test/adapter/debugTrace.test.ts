// The adapter's `forkscope/exportTrace` request (the view's Export Trace): a launched program under the real hub
// and launcher, its processes recorded from the start, the Chrome trace file written on request and naming each
// process. The child-session sink is injected and acts as the debugger over CDP. Needs `npm run build`.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Hub } from '../../src/hub/hub';
import { ForkscopeSession } from '../../src/debug/forkscopeSession';
import { NodeLauncher } from '../../src/debug/nodeLauncher';
import { programPids } from '../../src/debug/processTree';
import { releaseInspector } from '../../src/debug/inspectorRelease';
import { until } from './polling';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/debug-attach.ts', import.meta.url));

describe('ForkscopeSession forkscope/exportTrace', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-trace-'));
  let dc: DebugClient | undefined;
  let server: ReturnType<typeof createServer> | undefined;
  let rootPid: number | undefined;
  after(async () => {
    // Whatever the test left running (it failed midway): the whole tree, found before anything is killed.
    if (rootPid !== undefined) {
      for (const pid of await programPids({ rootPid })) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    }
    await dc?.stop().catch(() => {});
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the Chrome trace of the running program, every process named', async () => {
    const hubs: Hub[] = [];
    const launcher = new NodeLauncher({
      createHub: (spec, onSnapshot) => {
        const hub = new Hub({ debug: spec.debug, singleProcess: spec.singleProcess, onSnapshot, sampleIntervalMs: false });
        hubs.push(hub);
        return hub;
      },
      tsxSearchPaths: [repo],
    });
    server = createServer((socket) => {
      const session = new ForkscopeSession({
        launcher,
        startChildSession: async (configuration) => {
          await releaseInspector(configuration.websocketAddress as string);
          return true;
        },
      });
      session.setRunAsServer(true);
      session.start(socket, socket);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    dc = new DebugClient('node', 'unused', 'forkscope');
    await dc.start((server.address() as AddressInfo).port);
    const outputs: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => outputs.push(e.body.output));
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
    assert.throws(() => process.kill(rootPid!, 0), /ESRCH/, 'terminate ended the program');
  });
});
