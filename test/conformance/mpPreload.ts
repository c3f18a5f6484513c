// CPython's mp_preload.py for TestStartMethod.test_preload_resources: a module that makes a Lock as it is imported,
// preloaded into the forkserver's standbys; the child it starts prints "ok", and nothing goes to stderr.
import { Lock, getContext, isMainProcess } from 'forkscope';

new Lock();

/** The target: prints ok. */
export function f(): void {
  console.log('ok');
}

if (isMainProcess()) {
  void (async () => {
    const ctx = getContext('forkserver');
    ctx.setForkserverPreload(['./mpPreload.ts']);
    const proc = new ctx.Process({ target: f });
    proc.start();
    await proc.join();
  })();
}
