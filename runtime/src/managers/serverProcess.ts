// The manager server process: `BaseManager.start()` forks runtime/dist/manager.cjs, which runs this from the one
// runtime instance (index.cjs, as a child's bootstrap does), sends the address and authkey over IPC (never argv
// or env), and this answers with the address it listens on. It exits when asked to shut down or when its parent
// goes (the IPC channel closes). Runs only in that process.
import { resolve } from 'node:path';
import { builtinRegistry, ManagerServer } from './server';
import { beforeImports } from './codec';
import { self } from '../process';
import { useTypeScriptFor } from '../loader/typescript';
import type { StartMethod } from '../protocol';
import * as telemetry from '../telemetry';

interface StartMessage {
  t: 'start';
  host: string;
  port: number;
  authkey: string;
  /** For the hub: this server's name and the process that started it. */
  name?: string;
  parent?: string;
  /** The program's main module, which a Pool's workers import as any child does, and its start method. */
  main?: string;
  startMethod?: StartMethod;
}

/** Serves one manager in this process until shut down or orphaned. Entry of runtime/dist/manager.cjs. */
export function runManagerServer(): void {
  // Never the program's main process: a module of the program imported here (a function a Pool maps crosses by
  // reference) sees isMainProcess() false and does not run the program again, as in any child.
  self.isMain = false;
  self.mainModule = undefined;
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: StartMessage) => {
    if (message?.t !== 'start') return;
    self.name = message.name ?? 'Manager-server';
    if (typeof message.main === 'string') {
      const main = resolve(message.main);
      self.mainModule = main;
      // The program's TypeScript loads here as in a child (this process runs without the program's loader flags),
      // once a Pool call first brings a function by reference: a manager that serves only data never needs it.
      beforeImports(() => useTypeScriptFor(main, true));
    }
    if (message.startMethod && message.startMethod !== 'inline') self.startMethod = message.startMethod;
    if (message.parent) self.parent = { pid: Number(message.parent.split('/')[0]), name: 'MainProcess', key: message.parent };
    void (async () => {
      try {
        const server = await ManagerServer.listen({
          host: message.host,
          port: message.port,
          authkey: Buffer.from(message.authkey, 'hex'),
          registry: builtinRegistry(),
          onShutdown: () => void server.close().then(() => process.exit(0)),
        });
        // Said once it listens: the hub shows a manager that says hello as serving.
        void telemetry.connect({
          name: message.name ?? 'Manager-server',
          role: 'manager',
          startMethod: 'spawn',
          ...(message.parent ? { parent: message.parent } : {}),
        });
        process.send?.({ t: 'ready', address: server.address });
      } catch (error) {
        process.send?.({ t: 'failed', error: (error as Error).message });
        process.exitCode = 1;
        process.disconnect?.();
      }
    })();
  });
}
