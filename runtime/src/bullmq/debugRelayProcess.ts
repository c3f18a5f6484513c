// The process a remote worker relays one debug session from (runtime/dist/debugRelayProcess.cjs), a child of the
// worker: off the worker's event loop, which a breakpoint pauses along with anything that would carry the debugger's
// "resume"; and a process, not a thread, so the debugger attached to the worker neither lists nor can pause it. Gets
// its session (with the key) over IPC, never on its command line; ends with the session or when the worker is gone.
import { relaySession, type RelayData } from './debugRelay';

process.on('disconnect', () => process.exit(0));
process.once('message', (data) => {
  void relaySession(data as RelayData).then((ended) => {
    if (process.connected) process.send?.({ ended }, () => process.exit(0));
    else process.exit(0);
  });
});
