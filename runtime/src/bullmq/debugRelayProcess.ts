// The process a remote worker relays one debug session from (runtime/dist/debugRelayProcess.cjs), a child of the
// worker: off the worker's event loop, which a breakpoint pauses along with anything that would carry the debugger's
// "resume"; and a process, not a thread, so the debugger attached to the worker neither lists nor can pause it. Gets
// its session (with the key) over IPC, never on its command line; ends with the session or when the worker is gone.
import { relaySession, type RelayData } from './debugRelay';

// SIGTERM (the worker stopping) ends the session as the debugger would see it end: its port closes.
const stop = new AbortController();
let started = false;
const end = () => {
  stop.abort();
  if (!started) process.exit(0);
};
process.on('SIGTERM', end);
process.on('disconnect', end);
process.once('message', (data) => {
  started = true;
  void relaySession(data as RelayData, stop.signal).then((ended) => {
    if (process.connected) process.send?.({ ended }, () => process.exit(0));
    else process.exit(0);
  });
});
