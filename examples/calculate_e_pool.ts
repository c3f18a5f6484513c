// Seed 003 (Pool with a SyncManager Event): the same e calculation as calculate_e.ts, run by a Pool
// worker; a Pool cannot take a plain Event, so the Event lives in a SyncManager and the worker holds a proxy.
import { Pool, SyncManager, isMainProcess, type EventProxy } from 'forkscope';

/** workers.calculate_e over a manager's Event: the proxy's isSet() is a message, so it is awaited. */
export async function calculateE(exitEvent: EventProxy): Promise<number> {
  let k = 1.0;
  let eValue = 0.0;
  let iteration = 0;
  // At least one round of 1000 terms, as in calculate_e.ts: a loaded machine can start the worker late.
  do {
    eValue += 1.0 / k;
    k *= iteration + 1;
    iteration += 1;
  } while (iteration % 1000 !== 0 || !(await exitEvent.isSet()));
  return eValue;
}

async function main(): Promise<void> {
  await using syncManager = await new SyncManager().start();
  await using pool = new Pool();
  // for pool, use Event from SyncManager
  const eExitEvent = await syncManager.Event();
  // same "e" calculation as before, Pool() manages return data
  const eProc = pool.applyAsync(calculateE, [eExitEvent]);
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.FORKSCOPE_EXAMPLE_SLEEP ?? 3) * 1000)); // do other stuff
  await eExitEvent.set(); // tell calculate_e to stop
  console.log(await eProc.get());
}

if (isMainProcess()) void main();
