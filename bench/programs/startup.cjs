// The JavaScript program of bench/start.bench.ts (see startHarness.cjs). argv: method count.
const { isMainProcess } = require('forkscope');
const { measure } = require('./startHarness.cjs');

if (isMainProcess()) void measure(process.argv.slice(2));
