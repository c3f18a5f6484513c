// `npm run bench`: runs every bench/*.bench.ts in turn. Each prints its figures beside a peer measured
// in the same run, as ratios, because this machine is shared and noisy.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const only = process.argv.slice(2);
const files = readdirSync(__dirname)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

// One bench that cannot run (Redis missing, a peer not installed) must not hide the figures of the rest:
// each failure is printed under its heading, and the run fails at the end.
async function main(): Promise<void> {
  const failed: string[] = [];
  for (const file of files) {
    const name = file.replace(/\.bench\.ts$/, '');
    console.log(`\n## ${name}`);
    try {
      const mod = (await import(pathToFileURL(join(__dirname, file)).href)) as { default: () => Promise<void> };
      await mod.default();
    } catch (error) {
      console.error(error);
      failed.push(name);
    }
  }
  if (failed.length > 0) {
    console.error(`\nfailed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
