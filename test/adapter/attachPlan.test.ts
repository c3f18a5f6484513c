// The adapter's pure decisions: which process gets a debugger, its session name, the pwa-node configuration,
// and the launch configuration's resolution (envFile included). No processes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attachConfiguration, decideAttach, normalizePolicy, sessionName } from '../../src/debug/attachPlan';
import { parseEnvFile, resolveLaunchSpec } from '../../src/debug/launchArguments';
import type { AnnouncedProcess } from '../../src/debug/programHost';

const worker: AnnouncedProcess = {
  key: '4711',
  pid: 4711,
  threadId: 0,
  parent: '4700',
  name: 'Process-3',
  role: 'worker',
  startMethod: 'spawn',
  inspectorUrl: 'ws://127.0.0.1:40001/abc',
};
const main: AnnouncedProcess = { ...worker, key: '4700', pid: 4700, parent: undefined, name: 'MainProcess', role: 'main' };
const thread: AnnouncedProcess = { ...worker, key: '4711/2', threadId: 2, inspectorUrl: undefined };

describe('decideAttach', () => {
  it('attaches every process under "all", and worker threads through their process', () => {
    assert.equal(decideAttach('all', worker), 'attach');
    assert.equal(decideAttach('all', thread), 'viaParent');
  });
  it('releases children under "none" and "onDemand" but always debugs the main process', () => {
    for (const policy of ['none', 'onDemand'] as const) {
      assert.equal(decideAttach(policy, worker), 'release');
      assert.equal(decideAttach(policy, main), 'attach');
    }
  });
  it('filters by name (exact or *) and by role', () => {
    assert.equal(decideAttach({ names: ['Process-3'] }, worker), 'attach');
    assert.equal(decideAttach({ names: ['Process-*'] }, worker), 'attach');
    assert.equal(decideAttach({ names: ['Process-4'] }, worker), 'release');
    assert.equal(decideAttach({ roles: ['worker'] }, worker), 'attach');
    assert.equal(decideAttach({ roles: ['manager'] }, worker), 'release');
  });
  it('normalizes unknown values to "all" and keeps only strings in filters', () => {
    assert.equal(normalizePolicy(undefined), 'all');
    assert.equal(normalizePolicy('bogus'), 'all');
    assert.deepEqual(normalizePolicy({ names: ['a', 1], roles: 'x' }), { names: ['a'], roles: undefined });
  });
});

describe('sessionName', () => {
  it('reads `name · role · pid`, leaving out the plain "process" role', () => {
    assert.equal(sessionName(worker), 'Process-3 · worker · pid 4711');
    assert.equal(sessionName({ ...worker, role: 'process' }), 'Process-3 · pid 4711');
  });
});

describe('attachConfiguration', () => {
  it('is a loopback pwa-node attach that continues the waiting process and never auto-attaches children itself', () => {
    const c = attachConfiguration(worker, { cwd: '/w', outFiles: ['/w/out/**'] }, { rootSessionId: 'root', key: '4711', parent: '4700', pid: 4711 });
    assert.equal(c.type, 'pwa-node');
    assert.equal(c.request, 'attach');
    assert.equal(c.websocketAddress, 'ws://127.0.0.1:40001/abc');
    assert.equal(c.address, '127.0.0.1');
    assert.equal(c.port, 40001);
    assert.equal(c.continueOnAttach, true);
    assert.equal(c.autoAttachChildProcesses, false);
    assert.deepEqual(c.skipFiles, ['<node_internals>/**']);
    assert.deepEqual(c.outFiles, ['/w/out/**']);
    assert.equal(c.outputCapture, undefined, "js-debug's own console capture unless the adapter forwards output");
    assert.equal(attachConfiguration(worker, { outputCapture: 'std' }, { rootSessionId: 'r', key: 'k', pid: 1 }).outputCapture, 'std');
    assert.deepEqual(c.__forkscope, { rootSessionId: 'root', key: '4711', parent: '4700', pid: 4711 });
  });
});

describe('resolveLaunchSpec', () => {
  it('needs a program, resolves it against cwd, and asks for debugging', () => {
    assert.throws(() => resolveLaunchSpec({}), /needs a "program"/);
    const spec = resolveLaunchSpec({ program: 'app.ts', cwd: '/w', singleProcess: true, env: { A: '1', B: null } });
    assert.equal(spec.program, '/w/app.ts');
    assert.equal(spec.runtimeExecutable, 'node');
    assert.equal(spec.singleProcess, true);
    assert.equal(spec.debug, true);
    assert.deepEqual(spec.env, { A: '1', B: null });
  });
  it('parses envFile lines as dotenv does', () => {
    assert.deepEqual(parseEnvFile('# c\nA=1\nexport B = "two\\nlines"\nC=\'x y\'\nbad line\n'), { A: '1', B: 'two\nlines', C: 'x y' });
  });
});
