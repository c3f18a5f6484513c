// Seed 002: Pool(processes=5).map(square, …), then Pool(4).map(workLog, work) where each item sleeps its
// own number of seconds, so "Finished" lines come in order of the sleeps. FORKSCOPE_EXAMPLE_SCALE scales them.
import { Pool, isMainProcess } from 'forkscope';

const SCALE = Number(process.env.FORKSCOPE_EXAMPLE_SCALE ?? 1);

export function square(n: number): number {
  return n ** 2;
}

export async function workLog(workData: [string, number]): Promise<void> {
  console.log(` Process ${workData[0]} waiting ${workData[1]} seconds`);
  await new Promise((r) => setTimeout(r, workData[1] * 1000 * SCALE));
  console.log(` Process ${workData[0]} Finished.`);
}

async function main(): Promise<void> {
  {
    await using pool = new Pool({ processes: 5 });
    const out = await pool.map(square, [3, 4, 5, 6, 6, 7, 87, 8, 8]);
    console.log(`[${out.join(', ')}]`);
  }
  const work: Array<[string, number]> = [['A', 5], ['B', 2], ['C', 1], ['D', 3]];
  const p = new Pool(4);
  await p.map(workLog, work);
  p.close();
  await p.join();
}

if (isMainProcess()) void main();
