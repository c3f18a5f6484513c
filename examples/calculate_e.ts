// Seed 003 (CalculateE): a Process subclass computes e until its Event is set, then returns the value
// through a SimpleQueue. The child spins on exitEvent.isSet() synchronously, as the Python loop does.
import { Event, Process, SimpleQueue, isMainProcess } from 'forkscope';

/** workers.calculate_e: sums 1/k! and checks the exit event every 1000 iterations. */
export function calculateE(exitEvent: Event): number {
  let k = 1.0;
  let eValue = 0.0;
  let iteration = 0;
  // do…while: at least one round of 1000 terms even if the event was set before the child got going
  // (Python's `while` would return 0.0 then; a loaded machine can take longer than the parent's sleep).
  do {
    eValue += 1.0 / k;
    k *= iteration + 1;
    iteration += 1;
  } while (iteration % 1000 !== 0 || !exitEvent.isSet());
  return eValue;
}

export class CalculateE extends Process {
  #result: number | undefined;
  resultQueue = new SimpleQueue<number>();
  exitEvent = new Event();

  constructor() {
    super({ name: 'calculate_e_process' });
  }

  override async run(): Promise<void> {
    const returnedEValue = calculateE(this.exitEvent);
    await this.resultQueue.put(returnedEValue);
  }

  async get(): Promise<number> {
    this.#result ??= await this.resultQueue.get();
    return this.#result;
  }
}

async function main(): Promise<void> {
  const eProcess = new CalculateE();
  eProcess.start();
  await new Promise((resolve) => setTimeout(resolve, 3000)); // time.sleep(3): do other useful stuff ...
  eProcess.exitEvent.set(); // tell process to stop
  console.log(await eProcess.get()); // print e
  await eProcess.join();
}

if (isMainProcess()) void main();
