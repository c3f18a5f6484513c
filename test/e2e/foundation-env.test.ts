// ensureE2EEnvironment() (scripts/e2e-env.mjs): idempotent, safe when several test files call it at once,
// and not stuck behind a lock whose owner died. Uses a scratch cache linked to the real, installed one.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureE2EEnvironment, REPO_ROOT } from './harness';

const SCRIPT = join(REPO_ROOT, 'scripts', 'e2e-env.mjs');

function runEnsure(cache: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT], { env: { ...process.env, FORKSCOPE_E2E_CACHE: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('ensureE2EEnvironment()', { timeout: 180_000 }, () => {
  let real: ReturnType<typeof ensureE2EEnvironment>;
  const scratch: string[] = [];
  const children: ChildProcess[] = [];

  /** A cache whose tools are the real ones (linked) but which was never marked ready. */
  function unreadyCache(): string {
    const cache = mkdtempSync(join(tmpdir(), 'forkscope-e2e-cache-'));
    scratch.push(cache);
    symlinkSync(join(real.cache, 'node24'), join(cache, 'node24'));
    symlinkSync(join(real.cache, 'code-server'), join(cache, 'code-server'));
    return cache;
  }

  before(() => {
    real = ensureE2EEnvironment();
  });

  after(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it('returns the installed tools, and a second call is immediate', () => {
    const started = Date.now();
    const again = ensureE2EEnvironment();
    assert.deepEqual(again, real);
    assert.ok(existsSync(real.node) && existsSync(real.codeServerEntry) && existsSync(real.chromium));
    assert.ok(Date.now() - started < 5_000, 'a ready cache is not re-checked at length');
  });

  it('three concurrent callers all succeed and the cache ends ready, lock released', async () => {
    const cache = unreadyCache();
    const results = await Promise.all([runEnsure(cache), runEnsure(cache), runEnsure(cache)]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    for (const r of results) assert.equal((JSON.parse(r.stdout) as { cache: string }).cache, cache);
    assert.ok(existsSync(join(cache, 'ready.json')));
    assert.ok(!existsSync(join(cache, '.lock')));
  });

  it('waits while a live process holds the lock, then proceeds', async () => {
    const cache = unreadyCache();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    children.push(holder);
    writeFileSync(join(cache, '.lock'), String(holder.pid));
    const pending = runEnsure(cache);
    await new Promise((r) => setTimeout(r, 2_000));
    assert.ok(!existsSync(join(cache, 'ready.json')), 'it must not proceed while the lock is held');
    rmSync(join(cache, '.lock'));
    holder.kill('SIGKILL');
    const r = await pending;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /waiting for pid/);
    assert.ok(existsSync(join(cache, 'ready.json')));
  });

  it('takes over a lock whose owner died', async () => {
    const cache = unreadyCache();
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(join(cache, '.lock'), String(dead.pid));
    const r = await runEnsure(cache);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(cache, 'ready.json')));
  });
});
