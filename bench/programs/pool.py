# Peer of bench/programs/pool.cjs: multiprocessing.Pool(2).map on tiny tasks (cold: Pool() with its start-up);
# prints {"tasksPerSecond": n}.
import json
import multiprocessing as mp
import sys
import time


def square(x):
    return x * x


if __name__ == "__main__":
    count = int(sys.argv[2])
    if sys.argv[1] == "cold":
        # A Pool of default size, default chunksize, timed from Pool() to the end of join(): start-up included.
        xs = list(range(count))
        t0 = time.perf_counter()
        pool = mp.Pool()
        out = pool.map(square, xs)
        pool.close()
        pool.join()
        seconds = time.perf_counter() - t0
        assert out[-1] == (count - 1) ** 2
        print(json.dumps({"tasksPerSecond": count / seconds}))
        sys.exit(0)
    chunksize = None if sys.argv[1] == "map" else 1
    with mp.Pool(2) as pool:
        pool.map(square, [1, 2, 3, 4], chunksize=1)
        xs = list(range(count))
        t0 = time.perf_counter()
        out = pool.map(square, xs, chunksize=chunksize)
        seconds = time.perf_counter() - t0
    assert out[-1] == (count - 1) ** 2
    print(json.dumps({"tasksPerSecond": count / seconds}))
