// The Program view's frame rate with 1,000 processes and 10,000 events per second, measured by the
// browser test's load run (real Chromium, the real webview bundle) and printed here beside the goal.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export default async function viewBench(): Promise<void> {
  const root = join(__dirname, '..');
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-name-pattern', '1,000 processes', 'test/e2e/view-render.test.ts'],
    { cwd: root, encoding: 'utf8', timeout: 300_000 },
  );
  const line = (run.stdout ?? '').split('\n').find((l) => l.includes('view frame rate'));
  if (!line) {
    console.log(`view: no figure (exit ${run.status}); ${(run.stderr ?? '').slice(-400)}`);
    return;
  }
  const figures = [...line.matchAll(/\{[^}]*\}/g)].map(
    (m) => JSON.parse(m[0]) as { updatesPerSecond: number; fps: number; p95FrameMs: number; busyPct: number },
  );
  console.log('| view updates/s | fps (goal ≥ 30) | p95 frame ms | main thread busy % |');
  console.log('|---|---|---|---|');
  for (const f of figures) console.log(`| ${f.updatesPerSecond} | ${f.fps} | ${f.p95FrameMs} | ${f.busyPct} |`);
}
