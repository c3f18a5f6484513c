// The multiprocessing documentation's "Using a pool of workers" example in TypeScript: map, imapUnordered,
// applyAsync with get({ timeout }), several pids, a TimeoutError, and the pool ended by leaving its block.
import { Pool, TimeoutError, isMainProcess } from 'forkscope';
import { setTimeout as sleep } from 'node:timers/promises';

export function f(x: number): number {
  return x * x;
}

/** Python's os.getpid as a task. */
export function getpid(): number {
  return process.pid;
}

/** Python's time.sleep as a task (seconds). */
export async function timeSleep(secs: number): Promise<void> {
  await sleep(secs * 1000);
}

async function main(): Promise<void> {
  // start 4 worker processes
  {
    await using pool = new Pool({ processes: 4 });

    // print "[0, 1, 4,..., 81]"
    console.log(`[${(await pool.map(f, Array.from({ length: 10 }, (_, i) => i))).join(', ')}]`);

    // print same numbers in arbitrary order
    for await (const i of pool.imapUnordered(f, Array.from({ length: 10 }, (_, i) => i))) console.log(i);

    // evaluate "f(20)" asynchronously
    let res = pool.applyAsync(f, [20]); // runs in *only* one process
    console.log(await res.get({ timeout: 1000 })); // prints "400"

    // evaluate "os.getpid()" asynchronously
    res = pool.applyAsync(getpid, []); // runs in *only* one process
    console.log(await res.get({ timeout: 1000 })); // prints the PID of that process

    // launching multiple evaluations asynchronously *may* use more processes
    const multipleResults = Array.from({ length: 4 }, () => pool.applyAsync(getpid, []));
    console.log(`[${(await Promise.all(multipleResults.map((r) => r.get({ timeout: 1000 })))).join(', ')}]`);

    // make a single worker sleep for 10 seconds
    const slow = pool.applyAsync(timeSleep, [10]);
    slow.catch(() => {});
    try {
      console.log(await slow.get({ timeout: 1000 }));
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      console.log('We lacked patience and got a multiprocessing.TimeoutError');
    }

    console.log('For the moment, the pool remains available for more work');
  }

  // exiting the block has stopped the pool
  console.log('Now the pool is closed and no longer available');
}

if (isMainProcess()) void main();
