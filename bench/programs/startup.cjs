// The JavaScript program of bench/start.bench.ts (see startHarness.cjs). argv: method count.
const { isMainProcess } = require('forkscope');
const { writeFileSync } = require('node:fs');
const { measure } = require('./startHarness.cjs');

/** The target whose first line is timed: writes the time it ran. */
function mark(file) {
  writeFileSync(file, String(performance.timeOrigin + performance.now()));
}

/** The locked counter's child: `n` increments under the Value's own lock. */
async function count(v, n) {
  for (let i = 0; i < n; i++) {
    await v.getLock().acquire();
    v.value += 1;
    v.getLock().release();
  }
}

module.exports = { mark, count };
if (isMainProcess()) void measure(process.argv.slice(2), { mark, count });
