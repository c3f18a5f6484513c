// The shared-memory and manager examples (seeds 000, 001, 002) run as users run them and print what
// their Python twins print; each under a hard deadline, leaving no process or /dev/shm segment behind.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runProgram } from './runProgram';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const runExample = (file: string, env: NodeJS.ProcessEnv = {}) => runProgram(join('examples', file), { env, deadlineMs: 120_000 });

const numbers = (text: string): number[] => (text.match(/-?\d+(\.\d+)?/g) ?? []).map(Number);
const segments = (): string[] => readdirSync('/dev/shm').filter((f) => f.startsWith('forkscope-'));

describe('examples over shared memory and managers', () => {
  it('array_squares.ts: ten processes square a shared Array in place (seed 002)', async () => {
    const before = segments();
    const { code, stdout, stderr } = await runExample('array_squares.ts');
    assert.equal(code, 0, stderr);
    assert.deepEqual(numbers(stdout), [4, 9, 36, 49, 64, 64, 81, 9, 9, 9]);
    assert.deepEqual(
      segments().filter((s) => !before.includes(s)),
      [],
      'no segment left in /dev/shm',
    );
  });

  it('valuearray.ts: a child writes a Value and negates an Array (seeds 000, 001)', async () => {
    const { code, stdout, stderr } = await runExample('valuearray.ts');
    assert.equal(code, 0, stderr);
    assert.deepEqual(numbers(stdout), [3.141592, 0, -1, -2, -3, -4, -5, -6, -7, -8, -9]);
  });

  it('manager_dict_list.ts: a child fills a Manager dict and reverses its list (seed 001)', async () => {
    const { code, stdout, stderr } = await runExample('manager_dict_list.ts');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /Map\(3\) \{ 1 => '1', '2' => 2, 0\.25 => null \}/);
    assert.deepEqual(numbers(stdout.split('}')[1]!), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('calculate_e_pool.ts: a Pool worker computes e until a SyncManager Event is set (seed 003)', async () => {
    const { code, stdout, stderr } = await runExample('calculate_e_pool.ts', { FORKSCOPE_EXAMPLE_SLEEP: '1' });
    assert.equal(code, 0, stderr);
    assert.match(stdout.trim(), /^2\.71828182845904\d*$/, 'e to the precision a double sum of 1/k! reaches');
  });
});
