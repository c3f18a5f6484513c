// The child side of starting a process or worker (CPython's spawn.py): takes the start payload,
// says hello, re-imports the main module as a non-main process, then runs the Process or the pool
// worker loop. Runs only inside children; Node's modules only.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { openInspectorIfDebugging, waitForDebuggerIfOpened } from './inspector';
import * as telemetry from './telemetry';
import { decode } from './serialize';
import { loadTarget, type TargetRef } from './targets';
import { Process, self, reportUncaught, joinNonDaemonicChildren, terminateDaemonicChildren } from './process';
import { runWorker } from './poolWorker';
import { Socket } from 'node:net';
import { readFrames, writeFrame } from './frames';
import { DATA_FD, SPARE_READY, type StartPayload } from './popen';
import { importModule } from './loader/importModule';
import { precompileMain, useTypeScriptFor } from './loader/typescript';
import { existingBroker } from './broker/broker';
import { getLogger } from './logging';

/** The parent, seen from the child: one message channel however the child was started. */
export interface ParentChannel {
  send(message: unknown): void;
  /** Resolves when what was sent has left this process (so exiting after it loses nothing). */
  drain(): Promise<void>;
  onMessage(listener: (message: unknown) => void): void;
  /** Stops listening so the channel no longer keeps the child alive. */
  close(): void;
}

/** The framed data pipe to the parent (fd 4), opened on first use: only pool workers talk back. */
let dataPipe: Socket | null | undefined;
function openDataPipe(): Socket | null {
  if (dataPipe !== undefined) return dataPipe;
  try {
    dataPipe = new Socket({ fd: DATA_FD, readable: true, writable: true });
    dataPipe.on('error', () => {});
  } catch {
    dataPipe = null;
  }
  return dataPipe;
}

function processChannel(): ParentChannel {
  let pending = 0;
  let drained: (() => void) | undefined;
  const sent = (): void => {
    pending--;
    if (pending === 0) drained?.();
  };
  return {
    send(message) {
      pending++;
      const pipe = openDataPipe();
      if (pipe) writeFrame(pipe, message, sent);
      else process.send!(message, undefined, undefined, sent);
    },
    drain() {
      if (pending === 0) return Promise.resolve();
      return new Promise((r) => (drained = r));
    },
    onMessage(listener) {
      process.on('message', listener);
      const pipe = openDataPipe();
      if (pipe) readFrames(pipe, listener);
    },
    close() {
      process.removeAllListeners('message');
      (process.channel as { unref?: () => void } | undefined)?.unref?.();
      dataPipe?.unref();
    },
  };
}

function threadChannel(): ParentChannel {
  return {
    send(message) {
      parentPort!.postMessage(message);
    },
    drain: () => Promise.resolve(),
    onMessage(listener) {
      parentPort!.on('message', listener);
    },
    close() {
      parentPort!.unref();
    },
  };
}

/**
 * This thread runs the program's TypeScript as its parent does (worker threads inherit no loader). Targets load
 * through importModule (loader/importModule.ts), which starts Node 20's module hooks only for ES module TypeScript.
 */
function useTypeScript(main: string | undefined): void {
  useTypeScriptFor(main, true);
}

/** Imports the main module with isMainProcess() false, as Python's spawn imports __main__ as __mp_main__. */
async function importMain(main: string | undefined, targets: Array<TargetRef | undefined>): Promise<void> {
  if (!main || !existsSync(main)) return;
  self.bootstrapping = true;
  try {
    await importModule(main);
  } finally {
    self.bootstrapping = false;
  }
  void targets;
}

/**
 * setForkserverPreload()'s modules, resolved from the main module (or the working directory); one that cannot
 * be loaded is skipped, as CPython's forkserver skips an ImportError.
 */
async function preloadModules(main: string | undefined, names: string[]): Promise<void> {
  const from = createRequire(main ?? join(process.cwd(), 'index.js'));
  for (const name of names) {
    try {
      await importModule(from.resolve(name));
    } catch {
      // Not importable here: the program loads it itself when it needs it.
    }
  }
}

/**
 * A spare's head start on the main module's `require('forkscope')`: the first resolution through a package's
 * "exports" in a process starts Node's URL parser and ES module resolver (most of a spare's start → run() in a
 * profile), and the answer is cached for the main module's folder. Nothing of the program runs.
 */
function resolveRuntimeFrom(main: string | undefined): void {
  if (!main) return;
  try {
    createRequire(main).resolve('forkscope');
  } catch {
    // The program reaches the runtime some other way: it resolves it when it loads.
  }
}

function adopt(payload: StartPayload): void {
  self.isMain = false;
  self.identity = payload.identity;
  self.counter = 0;
  self.name = payload.name;
  self.daemon = payload.daemon;
  self.mainModule = payload.main;
  self.startMethod = payload.startMethod;
  // Python's spawn.prepare() sets the child's logger to the parent's level.
  if (typeof payload.logLevel === 'number') getLogger().setLevel(payload.logLevel);
  const [pid] = String(payload.parentKey).split('/');
  self.parent = { pid: Number(pid), name: String(payload.parentName ?? 'MainProcess'), key: payload.parentKey };
}

/**
 * A spare or standby tells its parent it is ready. A parent that died meanwhile is no error here (the callback takes
 * the EPIPE, which would otherwise be an uncaught 'error' printed after the program ended): 'disconnect' ends the child.
 */
function sayReady(): void {
  process.send?.({ t: SPARE_READY }, undefined, undefined, () => {});
}

/** Entry of runtime/dist/child.cjs: waits for the payload (IPC) or reads it (workerData), then runs. */
export function runChild(): void {
  if (isMainThread) {
    const channel = processChannel();
    // Lifeline: the parent's death closes IPC; a child never outlives it by more than a moment.
    process.once('disconnect', () => process.exit(self.daemon ? -15 : 1));
    let preloaded: Promise<void> | undefined;
    const onMessage = (message: unknown): void => {
      const m = message as { t?: string; main?: string; preload?: string[] };
      if (m?.t === 'ping') {
        // A "spawn" spare (popen.ts): booted, waiting for its payload; its program's TypeScript looked up ahead.
        useTypeScript(m.main);
        precompileMain(m.main);
        resolveRuntimeFrom(m.main);
        sayReady();
        return;
      }
      if (m?.t === 'standby') {
        // A forkserver standby: load the preloaded modules and the program now, run when the payload comes.
        self.isMain = false;
        useTypeScript(m.main);
        preloaded = preloadModules(m.main, m.preload ?? []).then(() => importMain(m.main, []));
        // Its failure is reported when the payload comes, as the bootstrap's own failure. Ready either way.
        preloaded.then(sayReady, sayReady);
        return;
      }
      process.off('message', onMessage);
      void main(message as StartPayload, channel, preloaded);
    };
    process.on('message', onMessage);
  } else if ((workerData as { t?: string } | undefined)?.t === 'standby') {
    // A warm thread (popen.ts): the runtime and the loader are ready; the program's module loads with the payload.
    useTypeScript((workerData as { main?: string }).main);
    precompileMain((workerData as { main?: string }).main);
    resolveRuntimeFrom((workerData as { main?: string }).main);
    parentPort!.once('message', (payload: StartPayload) => void main(payload, threadChannel()));
    parentPort!.postMessage({ t: SPARE_READY });
  } else {
    void main(workerData as StartPayload, threadChannel());
  }
}

async function main(payload: StartPayload, channel: ParentChannel, preloaded?: Promise<void>): Promise<void> {
  adopt(payload);
  const inspectorUrl = openInspectorIfDebugging();
  await telemetry.connect({
    name: payload.name,
    startMethod: payload.startMethod,
    role: payload.kind === 'worker' ? 'worker' : 'process',
    parent: payload.parentKey,
    inspectorUrl,
    entry: payload.main,
  });
  waitForDebuggerIfOpened({ endsWithParent: true });
  let code = 0;
  try {
    useTypeScript(payload.main);
    if (preloaded) await preloaded;
    const target = payload.target as TargetRef | undefined;
    const subclass = payload.subclass as TargetRef | undefined;
    if (payload.kind === 'worker') {
      if (!preloaded) await importMain(payload.main, []);
      code = await runWorker(payload, channel);
    } else {
      if (!preloaded) await importMain(payload.main, [target, subclass]);
      const cls = subclass ? await loadTarget(subclass) : undefined;
      const fn = target ? await loadTarget(target) : undefined;
      const process_ = Process._revive(
        cls,
        {
          target: fn,
          args: decode(payload.args) as unknown[],
          kwargs: decode(payload.kwargs) as Record<string, unknown> | undefined,
          name: payload.name,
          daemon: payload.daemon,
          identity: payload.identity,
        },
        decode(payload.fields) as Record<string, unknown>,
      );
      self.current = process_;
      try {
        await process_.run();
      } catch (error) {
        code = 1;
        reportUncaught(payload.name, error);
      }
    }
    await joinNonDaemonicChildren();
  } catch (error) {
    // The bootstrap itself failed (the main module or the target's module threw on import).
    code = 1;
    reportUncaught(payload.name, error);
  }
  terminateDaemonicChildren();
  await telemetry.flush();
  await existingBroker()?.flush(2_000);
  await channel.drain();
  // A worker thread's stdio goes through its parent asynchronously: let it leave before exiting.
  // Bounded: a program that replaced stream.write (CPython's test_stderr_flush does) may never call the callback.
  // Only a stream with writes still pending is waited for: a worker thread's write('') is a round trip to its
  // parent's event loop, most of a thread's join when the child printed nothing.
  const pending = [process.stdout, process.stderr].filter((stream) => stream.writableLength > 0 || stream.writableNeedDrain);
  const flushed = Promise.all(pending.map((stream) => new Promise<void>((r) => stream.write('', () => r()))));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([flushed, new Promise<void>((r) => (timer = setTimeout(r, 1_000)))]);
  clearTimeout(timer);
  process.exit(process.exitCode !== undefined && code === 0 ? Number(process.exitCode) : code);
}
