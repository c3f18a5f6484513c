// The setup every adapter test shares: a real ForkscopeSession served on a loopback port, a DebugClient talking DAP
// to it with its output and `forkscope/process` events collected, the real launcher over the real hub, and the
// cleanup that ends a program's whole tree. Test-only; no VS Code.
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Hub } from '../../hub/hub';
import { ForkscopeSession, type ForkscopeSessionDeps } from '../../src/debug/forkscopeSession';
import { NodeLauncher } from '../../src/debug/nodeLauncher';
import { programPids } from '../../src/debug/processTree';
import type { ForkscopeEvents } from '../../src/debug/debugEvents';

/** The repository root: the programs' cwd, and where tsx is found. */
export const repo = fileURLToPath(new URL('../..', import.meta.url));

export interface DebugHarness {
  dc: DebugClient;
  /** Every `output` event's text, in order. */
  outputs: string[];
  /** Every `forkscope/process` event's body, in order. */
  processEvents: Array<ForkscopeEvents['forkscope/process']>;
  /** Stops the client and the adapter's server. */
  close(): Promise<void>;
}

/** Serves a ForkscopeSession made from `deps` on a loopback port and connects a DebugClient to it. */
export async function startDebugClient(deps: ForkscopeSessionDeps): Promise<DebugHarness> {
  const server = createServer((socket) => {
    const session = new ForkscopeSession(deps);
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dc = new DebugClient('node', 'unused', 'forkscope');
  await dc.start((server.address() as AddressInfo).port);
  const outputs: string[] = [];
  const processEvents: DebugHarness['processEvents'] = [];
  dc.on('output', (e: DebugProtocol.OutputEvent) => outputs.push(e.body.output));
  dc.on('forkscope/process', (e: DebugProtocol.Event) => processEvents.push(e.body));
  return {
    dc,
    outputs,
    processEvents,
    async close() {
      await dc.stop().catch(() => {});
      server.close();
    },
  };
}

/** The real launcher over a real Hub (no sampler: the tests count processes); `onHub` sees each hub made. */
export function realLauncher(onHub?: (hub: Hub) => void): NodeLauncher {
  return new NodeLauncher({
    createHub: (spec, onSnapshot) => {
      const hub = new Hub({ debug: spec.debug, singleProcess: spec.singleProcess, onSnapshot, sampleIntervalMs: false });
      onHub?.(hub);
      return hub;
    },
    tsxSearchPaths: [repo],
  });
}

/** Whatever a failed test left running: the whole tree under `rootPid`, found before anything is killed. */
export async function killProgram(rootPid: number | undefined): Promise<void> {
  if (rootPid === undefined) return;
  for (const pid of await programPids({ rootPid })) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}
