# Peer of bench/programs/counter.cjs: two children each add 1 to one Value n times under get_lock(), timed from the
# Value's creation to the end of both join()s (start-up included). argv: n. Prints {"opsPerSecond": x}.
import json
import sys
import time
from multiprocessing import Process, Value


def count(v, n):
    for _ in range(n):
        with v.get_lock():
            v.value += 1


if __name__ == "__main__":
    n = int(sys.argv[1])
    t0 = time.perf_counter()
    v = Value("i", 0)
    children = [Process(target=count, args=(v, n)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join()
    seconds = time.perf_counter() - t0
    assert v.value == 2 * n, v.value
    print(json.dumps({"opsPerSecond": 2 * n / seconds}))
