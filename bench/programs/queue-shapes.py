# Python's side of bench/queue.bench.ts: the same shapes as queue-shapes.ts, timed the same way (from
# "every party is up" to "every item arrived"). argv: shape kind item n. Prints messages per second.
import sys, time
import multiprocessing as mp
from multiprocessing import Process, Event, SimpleQueue, Queue, JoinableQueue


def item(kind, i):
    return i if kind == 'number' else {'id': i, 'op': 'add', 'v': i * 0.5}


def produce(q, ready, go, kind, n, sentinels):
    ready.put('ready')
    go.wait()
    for i in range(n):
        q.put(item(kind, i))
    for _ in range(sentinels):
        q.put(None)


def consume(q, ready, done, stop, joinable):
    ready.put('ready')
    got = 0
    nulls = 0
    while nulls < stop:
        x = q.get()
        if joinable:
            q.task_done()
        if x is None:
            nulls += 1
        else:
            got += 1
    done.put(got)


def make(kind):
    return {'SimpleQueue': SimpleQueue, 'JoinableQueue': JoinableQueue}.get(kind, Queue)()


def main():
    shape, kind, item_kind, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if 'thread' in shape:
        raise SystemExit('Python has no worker-thread peer for multiprocessing.Queue')
    q = make(kind)
    ready, done, go = SimpleQueue(), SimpleQueue(), Event()
    joinable = kind == 'JoinableQueue'
    producers = 4 if shape == '4-1' else 1 if shape.startswith('child') else 0
    consumers = 4 if shape == '1-4' else 1 if shape.endswith('child') else 0
    procs = []
    for p in range(producers):
        procs.append(Process(target=produce, args=(q, ready, go, item_kind, n // producers, consumers if p == 0 and consumers else 0)))
    for _ in range(consumers):
        procs.append(Process(target=consume, args=(q, ready, done, 1, joinable)))
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()
    t = time.perf_counter()
    go.set()
    got = 0
    if producers == 0:
        for i in range(n):
            q.put(item(item_kind, i))
        for _ in range(consumers):
            q.put(None)
    if consumers == 0:
        for _ in range(n):
            q.get()
            if joinable:
                q.task_done()
            got += 1
    else:
        for _ in range(consumers):
            got += done.get()
    dt = time.perf_counter() - t
    for p in procs:
        p.join()
    if got != n:
        raise SystemExit(f'{got} of {n} items arrived')
    print(n / dt)


if __name__ == '__main__':
    main()
