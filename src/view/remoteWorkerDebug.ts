// "Debug this worker" for a remote (bullmq) worker: runs the program's own `forkscope debug-worker`, which asks the
// worker through Redis to relay its loopback inspector (sealed with the shared debug key), and attaches js-debug to
// the loopback port it offers here. Nothing on the worker listens on a network address. Host side.
import { spawn, type ChildProcess } from 'node:child_process';
import * as vscode from 'vscode';
import { ENV } from '../../runtime/src/protocol';
import type { ClusterNode } from '../../hub/snapshot';
import { findInPackage } from '../../hub/typeScriptOptions';

const RELAY_READY_MS = 30_000;

/**
 * Starts the relay and a debug session attached through it; the relay ends with the session. The Redis URL and the
 * debug key come from the program's launch configuration (`env`: FORKSCOPE_BACKEND, FORKSCOPE_DEBUG_KEY), else this
 * window's environment, else input boxes.
 */
export async function debugRemoteWorker(cluster: ClusterNode, worker: string, launchEnv?: Record<string, string | null | undefined>): Promise<void> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const cli = findInPackage(folders, 'forkscope', 'bin/forkscope.js');
  if (!cli) throw new Error('debugging a remote worker needs the forkscope package in this workspace (npm install forkscope bullmq ioredis)');
  const backend =
    launchEnv?.FORKSCOPE_BACKEND ||
    process.env.FORKSCOPE_BACKEND ||
    (await vscode.window.showInputBox({
      title: `Debug worker ${worker}: Redis`,
      prompt: 'The redis:// URL the worker serves (with its user and password)',
      value: `redis://${cluster.address}`,
      ignoreFocusOut: true,
    }));
  if (!backend) return;
  const key =
    launchEnv?.[ENV.debugKey] ||
    process.env[ENV.debugKey] ||
    (await vscode.window.showInputBox({
      title: `Debug worker ${worker}: debug key`,
      prompt: 'The --debug-key the worker was started with',
      password: true,
      ignoreFocusOut: true,
    }));
  if (!key) return;
  const split = cluster.queue.lastIndexOf(':');
  const args = [
    cli,
    'debug-worker',
    '--backend',
    backend,
    '--prefix',
    cluster.queue.slice(0, split),
    '--queue',
    cluster.queue.slice(split + 1),
    '--name',
    worker,
  ];
  const relay = spawn(process.execPath, args, { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', [ENV.debugKey]: key }, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await relayUrl(relay);
  const name = `${worker} · remote worker`;
  const ended = vscode.debug.onDidTerminateDebugSession((session) => {
    if (session.name !== name) return;
    ended.dispose();
    relay.kill('SIGTERM');
  });
  const started = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], {
    type: 'pwa-node',
    request: 'attach',
    name,
    websocketAddress: url,
  });
  if (!started) {
    ended.dispose();
    relay.kill('SIGTERM');
  }
}

function relayUrl(relay: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(`the relay did not start in ${RELAY_READY_MS / 1000} s`), RELAY_READY_MS);
    const onData = (d: Buffer) => {
      out += d.toString();
      const url = /is at (ws:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    const fail = (why: string) => {
      clearTimeout(timer);
      relay.kill('SIGTERM');
      reject(new Error(`${why}: ${out.trim().split('\n').pop() ?? ''}`));
    };
    relay.stdout?.on('data', onData);
    relay.stderr?.on('data', onData);
    relay.on('exit', () => fail('the relay ended'));
  });
}
