// Python's Doc/includes/mp_synchronize.py in TypeScript: Value, Queue, Condition, Semaphore, join(timeout),
// Event and shared values, each exercised by real processes. `npx tsx examples/mpSynchronize.ts [processes|threads]`
// (threads: the "thread" start method, the twin of Python's multiprocessing.dummy).
import { Array as SharedArray, Condition, Event, Lock, Process, Queue, RLock, Semaphore, Value, currentProcess, activeChildren, setStartMethod, isMainProcess, Empty } from 'forkscope';
import { setTimeout as sleep } from 'node:timers/promises';

const print = (...parts: unknown[]): void => void process.stdout.write(`${parts.join(' ')}\n`);
const write = (text: string): void => void process.stdout.write(text);

//// TEST_VALUE

export async function valueFunc(running: Value<'i'>, mutex: Lock): Promise<void> {
  await sleep(Math.random() * 4000);
  // forkscope-disable-next-line unreleased-lock
  await mutex.acquire();
  print(`\n\t\t\t${currentProcess().name} has finished`);
  running.value -= 1;
  mutex.release();
}

async function testValue(): Promise<void> {
  const TASKS = 10;
  const running = new Value('i', TASKS);
  const mutex = new Lock();
  for (let i = 0; i < TASKS; i++) new Process({ target: valueFunc, args: [running, mutex] }).start();
  while (running.value > 0) {
    await sleep(80);
    // forkscope-disable-next-line unreleased-lock
    await mutex.acquire();
    write(`${running.value} `);
    mutex.release();
  }
  print();
  print('No more running processes');
}

//// TEST_QUEUE

export async function queueFunc(queue: Queue<number | 'STOP'>): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await sleep(500 * Math.random());
    await queue.put(i * i);
  }
  await queue.put('STOP');
}

async function testQueue(): Promise<void> {
  const q = new Queue<number | 'STOP'>();
  const p = new Process({ target: queueFunc, args: [q] });
  p.start();
  let o: number | 'STOP' | null = null;
  while (o !== 'STOP') {
    try {
      o = await q.get({ timeout: 300 });
      write(`${o} `);
    } catch (e) {
      if (!(e instanceof Empty)) throw e;
      print('TIMEOUT');
    }
  }
  print();
  await p.join();
}

//// TEST_CONDITION

export async function conditionFunc(cond: Condition): Promise<void> {
  // forkscope-disable-next-line unreleased-lock
  await cond.acquire();
  print('\tchild has the condition');
  await sleep(2000);
  print('\tchild is notifying');
  cond.notify();
  cond.release();
}

async function testCondition(): Promise<void> {
  const cond = new Condition();
  const p = new Process({ target: conditionFunc, args: [cond] });
  // forkscope-disable-next-line unreleased-lock
  await cond.acquire();
  // forkscope-disable-next-line unreleased-lock
  await cond.acquire();
  p.start();
  print('main is waiting');
  await cond.wait();
  print('main has woken up');
  cond.release();
  cond.release();
  await p.join();
}

//// TEST_SEMAPHORE

export async function semaphoreFunc(sema: Semaphore, mutex: RLock, running: Value<'i'>): Promise<void> {
  // forkscope-disable-next-line unreleased-lock
  await sema.acquire();
  // forkscope-disable-next-line unreleased-lock
  await mutex.acquire();
  running.value += 1;
  print(running.value, 'tasks are running');
  mutex.release();
  await sleep(Math.random() * 2000);
  // forkscope-disable-next-line unreleased-lock
  await mutex.acquire();
  running.value -= 1;
  print(`${currentProcess().name} has finished`);
  mutex.release();
  sema.release();
}

async function testSemaphore(): Promise<void> {
  const sema = new Semaphore(3);
  const mutex = new RLock();
  const running = new Value('i', 0);
  const processes = Array.from({ length: 10 }, () => new Process({ target: semaphoreFunc, args: [sema, mutex, running] }));
  for (const p of processes) p.start();
  for (const p of processes) await p.join();
}

//// TEST_JOIN_TIMEOUT

export async function joinTimeoutFunc(): Promise<void> {
  print('\tchild sleeping');
  await sleep(5500);
  print('\n\tchild terminating');
}

async function testJoinTimeout(): Promise<void> {
  const p = new Process({ target: joinTimeoutFunc });
  p.start();
  print('waiting for process to finish');
  for (;;) {
    await p.join({ timeout: 1000 });
    if (!p.isAlive()) break;
    write('. ');
  }
}

//// TEST_EVENT

export async function eventFunc(event: Event): Promise<void> {
  print(`\t${currentProcess().name} is waiting`);
  await event.wait();
  print(`\t${currentProcess().name} has woken up`);
}

async function testEvent(): Promise<void> {
  const event = new Event();
  const processes = Array.from({ length: 5 }, () => new Process({ target: eventFunc, args: [event] }));
  for (const p of processes) p.start();
  print('main is sleeping');
  await sleep(2000);
  print('main is setting event');
  event.set();
  for (const p of processes) await p.join();
}

//// TEST_SHAREDVALUES

export function sharedvaluesFunc(values: [string, number][], arrays: [string, number[]][], sharedValues: Value[], sharedArrays: SharedArray[]): void {
  for (let i = 0; i < values.length; i++) if (values[i]![1] !== sharedValues[i]!.value) throw new Error(`value ${i}`);
  for (let i = 0; i < arrays.length; i++) if (JSON.stringify(arrays[i]![1]) !== JSON.stringify(sharedArrays[i]!.slice())) throw new Error(`array ${i}`);
  print('Tests passed');
}

async function testSharedvalues(): Promise<void> {
  const values: [string, number][] = [
    ['i', 10],
    ['h', -2],
    ['d', 1.25],
  ];
  const arrays: [string, number[]][] = [
    ['i', Array.from({ length: 100 }, (_, i) => i)],
    ['d', Array.from({ length: 100 }, (_, i) => 0.25 * i)],
    ['H', Array.from({ length: 1000 }, (_, i) => i)],
  ];
  const sharedValues = values.map(([id, v]) => new Value(id as 'i', v));
  const sharedArrays = arrays.map(([id, a]) => new SharedArray(id as 'i', a));
  const p = new Process({ target: sharedvaluesFunc, args: [values, arrays, sharedValues, sharedArrays] });
  p.start();
  await p.join();
  if (p.exitCode !== 0) throw new Error(`exit code ${p.exitCode}`);
}

async function test(): Promise<void> {
  for (const func of [testValue, testQueue, testCondition, testSemaphore, testJoinTimeout, testEvent, testSharedvalues]) {
    print(`\n\t######## ${func.name}\n`);
    await func();
  }
  activeChildren(); // cleanup any old processes
}

if (isMainProcess()) {
  const mode = process.argv[2] ?? 'processes';
  if (mode === 'processes') print(' Using processes '.padStart(48, '-').padEnd(79, '-'));
  else if (mode === 'threads') {
    print(' Using threads '.padStart(47, '-').padEnd(79, '-'));
    setStartMethod('thread');
  } else {
    print(`Usage:\n\t${process.argv[1]} [processes | threads]`);
    process.exit(2);
  }
  void test();
}
