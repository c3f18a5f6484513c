// The inspector proxy against a real Node inspector: a debugger that leaves while the program goes on loading code
// must leave the program running. Node's inspector writes events queued for a closed connection through a freed
// socket and dies of SIGSEGV (nodejs/node#64209): before the proxy turned js-debug's domains off on its way out,
// this program died within 40 detaches in 3 runs of 3.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CdpConnection } from '../../src/debug/cdpConnection';
import { InspectorProxy } from '../../src/debug/inspectorProxy';

const fixture = fileURLToPath(new URL('../fixtures/inspector-busy.cjs', import.meta.url));
const DETACHES = 40;

describe('InspectorProxy with a real inspector', { timeout: 120_000 }, () => {
  it(`a program that keeps compiling scripts survives ${DETACHES} debuggers leaving with their domains on`, async () => {
    const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', fixture], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stderr.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
          const found = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(text);
          if (found) resolve(found[0]);
        });
        child.once('exit', () => reject(new Error(`the program exited before its inspector listened: ${text}`)));
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      for (let i = 0; i < DETACHES && child.exitCode === null && child.signalCode === null; i++) {
        const proxy = await InspectorProxy.open(url);
        const debuggerSide = await CdpConnection.open(proxy.url, 10_000);
        // What js-debug turns on, then a debugger that goes away without a word (as a closed window or a crash would).
        await debuggerSide.call('Runtime.enable');
        await debuggerSide.call('Debugger.enable');
        await debuggerSide.call('NodeWorker.enable', { waitForDebuggerOnStart: false });
        debuggerSide.close();
        // Each proxy serves one debugger; its inspector connection ends once the program has answered.
        await new Promise((resolve) => setTimeout(resolve, 20));
        proxy.close();
      }
      assert.deepEqual([child.exitCode, child.signalCode], [null, null], 'the program is still running');
      child.stdin.end('done\n');
      const [code, signal] = await exit;
      assert.deepEqual([code, signal], [0, null], 'the program ended by itself');
      assert.match(stdout, /compiled \d+ scripts/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
