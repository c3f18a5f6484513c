// What the language server's code lenses start (src/language/lensLaunch.ts): the debug configurations and
// the trace command. Pure: no VS Code, no processes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { lensConfiguration, traceRun } from '../../src/language/lensLaunch';

describe('code lens launches', () => {
  it('"Debug all processes" launches the file under the forkscope debug type', () => {
    assert.deepEqual(lensConfiguration('/w/app.ts', 'debug'), { type: 'forkscope', request: 'launch', name: 'Forkscope: app.ts', program: '/w/app.ts' });
  });

  it('"Run as single process" sets singleProcess, which the launch schema declares', () => {
    const config = lensConfiguration('/w/app.ts', 'single');
    assert.equal(config.singleProcess, true);
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      contributes: { debuggers: { type: string; configurationAttributes: { launch: { properties: Record<string, unknown> } } }[] };
    };
    const launch = manifest.contributes.debuggers.find((d) => d.type === config.type)!.configurationAttributes.launch.properties;
    for (const key of Object.keys(config).filter((k) => !['type', 'request', 'name'].includes(k)))
      assert.ok(key in launch, `${key} is not in the launch schema`);
  });

  it('"Trace" runs the package CLI with --trace beside the program, never installing anything', () => {
    assert.deepEqual(traceRun('/w/src/app.ts'), {
      command: 'npx',
      args: ['--no', 'forkscope', 'run', '/w/src/app.ts', '--trace', '/w/src/app.trace.json'],
      cwd: '/w/src',
      traceFile: '/w/src/app.trace.json',
    });
    assert.equal(traceRun('/w/my program.mjs').traceFile, '/w/my program.trace.json');
  });
});
