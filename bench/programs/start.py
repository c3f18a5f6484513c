# Peer of bench/programs/start.cjs: Python's Process start() → first line of the target, per start method.
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time


def mark(path):
    with open(path, "w") as f:
        f.write(repr(time.time() * 1000))


if __name__ == "__main__":
    method, count = sys.argv[1], int(sys.argv[2])
    ctx = mp.get_context(method)
    d = tempfile.mkdtemp()
    ms = []
    for i in range(count):
        path = os.path.join(d, "t%d" % i)
        p = ctx.Process(target=mark, args=(path,))
        t0 = time.time() * 1000
        p.start()
        p.join()
        with open(path) as f:
            ms.append(float(f.read()) - t0)
    print(json.dumps({"ms": ms}))
