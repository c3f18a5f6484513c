// The entry of runtime/dist/index.cjs: the public API (index.ts) plus the two functions the runtime's own processes
// find by name in the bundle, a child's bootstrap and the manager server's target. They are not in index.ts, so
// the published types and the ES module face (index.mjs) carry only the public API.
export * from './index';
export { runChild as _runChild } from './spawn';
export { serveManager as _serveManager } from './managers';
