// The forkscope side of bench/queue.bench.ts: one queue shape per run, timed from "every party is up" to
// "every item arrived", as bench/programs/queue-shapes.py times Python's. Prints messages per second.
// argv: shape (main-child, child-main, child-child, 1-4, 4-1, main-thread, thread-main, thread-thread) kind (Queue,
// SimpleQueue, JoinableQueue) item (object, number) n.
import { Event, JoinableQueue, Queue, SimpleQueue, getContext, isMainProcess } from 'forkscope';

type Item = number | { id: number; op: string; v: number } | null;
type AnyQueue = Queue<Item> | SimpleQueue<Item> | JoinableQueue<Item>;

function item(kind: string, i: number): Item {
  return kind === 'number' ? i : { id: i, op: 'add', v: i * 0.5 };
}

/** Puts n items (then `sentinels` nulls) once `go` is set. */
export async function produce(q: AnyQueue, ready: SimpleQueue<string>, go: Event, kind: string, n: number, sentinels: number): Promise<void> {
  await ready.put('ready');
  await go.wait();
  for (let i = 0; i < n; i++) await q.put(item(kind, i));
  for (let s = 0; s < sentinels; s++) await q.put(null);
}

/** Gets until `stop` nulls arrived, then says how many items it took. */
export async function consume(q: AnyQueue, ready: SimpleQueue<string>, done: SimpleQueue<number>, stop: number): Promise<void> {
  await ready.put('ready');
  let got = 0;
  for (let nulls = 0; nulls < stop; ) {
    const x = await q.get();
    if (q instanceof JoinableQueue) q.taskDone();
    if (x === null) nulls++;
    else got++;
  }
  await done.put(got);
}

function make(kind: string): AnyQueue {
  if (kind === 'SimpleQueue') return new SimpleQueue<Item>();
  if (kind === 'JoinableQueue') return new JoinableQueue<Item>();
  return new Queue<Item>();
}

async function main(): Promise<void> {
  const [shape = 'main-child', kind = 'Queue', itemKind = 'object', countText = '200000'] = process.argv.slice(2);
  const n = Number(countText);
  const ctx = getContext(shape.includes('thread') ? 'thread' : 'spawn');
  const q = make(kind);
  const ready = new SimpleQueue<string>();
  const done = new SimpleQueue<number>();
  const go = new Event();
  const producers = shape === '4-1' ? 4 : shape.startsWith('child') || shape.startsWith('thread') ? 1 : 0;
  const consumers = shape === '1-4' ? 4 : shape.endsWith('child') || shape.endsWith('thread') ? 1 : 0;
  const procs = [];
  for (let p = 0; p < producers; p++) procs.push(new ctx.Process({ target: produce, args: [q, ready, go, itemKind, n / producers, consumers > 0 ? (p === 0 ? consumers : 0) : 0] }));
  for (let c = 0; c < consumers; c++) procs.push(new ctx.Process({ target: consume, args: [q, ready, done, producers > 1 ? 1 : 1] }));
  for (const p of procs) p.start();
  for (let i = 0; i < procs.length; i++) await ready.get();
  const t = performance.now();
  go.set();
  let got = 0;
  if (producers === 0) {
    for (let i = 0; i < n; i++) await q.put(item(itemKind, i));
    for (let c = 0; c < consumers; c++) await q.put(null);
  }
  if (consumers === 0) {
    for (let i = 0; i < n; i++) {
      await q.get();
      if (q instanceof JoinableQueue) q.taskDone();
      got++;
    }
  } else for (let c = 0; c < consumers; c++) got += await done.get();
  const seconds = (performance.now() - t) / 1000;
  for (const p of procs) await p.join();
  if (got !== n) throw new Error(`${got} of ${n} items arrived`);
  console.log(String(n / seconds));
}

if (isMainProcess()) void main();
