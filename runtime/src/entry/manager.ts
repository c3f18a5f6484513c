// The manager server process: `BaseManager.start()` forks this, sends the address and authkey over
// IPC (never argv or env), and this answers with the address it listens on. It exits when asked to
// shut down or when its parent goes (the IPC channel closes). Runs only in that process.
import { builtinRegistry, ManagerServer } from '../managers/server';
import * as telemetry from '../telemetry';

interface StartMessage {
  t: 'start';
  host: string;
  port: number;
  authkey: string;
  /** For the hub: this server's name and the process that started it. */
  name?: string;
  parent?: string;
}

process.on('disconnect', () => process.exit(0));

process.on('message', (message: StartMessage) => {
  if (message?.t !== 'start') return;
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
      void telemetry.connect({ name: message.name ?? 'Manager-server', role: 'manager', startMethod: 'spawn', ...(message.parent ? { parent: message.parent } : {}) });
      process.send?.({ t: 'ready', address: server.address });
    } catch (error) {
      process.send?.({ t: 'failed', error: (error as Error).message });
      process.exitCode = 1;
      process.disconnect?.();
    }
  })();
});
