// The entry of runtime/dist/index.cjs: the public API (index.ts) plus the functions the runtime's own processes
// and CLI find by name in the bundle (a child's bootstrap, the manager server and its target, `forkscope worker`). Not in index.ts, so
// the published types and the ES module face (index.mjs) carry only the public API.
export * from './index';
export { runChild as _runChild } from './spawn';
export { serveManager as _serveManager } from './managers';
export { runManagerServer as _runManagerServer } from './managers/serverProcess';
export { workerCommand as _workerCommand, debugWorkerCommand as _debugWorkerCommand } from './bullmq/workerCommand';
