// The thread a remote worker relays one debug session on (runtime/dist/debugRelayThread.cjs): off the main thread,
// so a breakpoint that pauses the worker's event loop does not also stop the bytes that would resume it.
import { parentPort, workerData } from 'node:worker_threads';
import { relaySession, type RelayThreadData } from './debugRelay';

void relaySession(workerData as RelayThreadData).then((ended) => {
  parentPort?.postMessage({ ended });
  process.exit(0);
});
