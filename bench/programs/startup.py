# Peer of bench/programs/startHarness.cjs: Python's start() → first line and start()+join() per start
# method, a burst of 10 (the docs' Lock example), and the two-children locked Value counter.
import json, os, sys, tempfile, time
import multiprocessing as mp


def mark(path):
    with open(path, "w") as f:
        f.write(repr(time.time() * 1000))


def count(v, n):
    for _ in range(n):
        with v.get_lock():
            v.value += 1


if __name__ == "__main__":
    method, n = sys.argv[1], int(sys.argv[2])
    out = {"first": [], "join": [], "burst": [], "counter": []}
    d = tempfile.mkdtemp()
    if method == "counter":
        for i in range(n):
            v = mp.Value("i", 0)
            t0 = time.time() * 1000
            ps = [mp.Process(target=count, args=(v, 200000)) for _ in range(2)]
            for p in ps: p.start()
            for p in ps: p.join()
            out["counter"].append(time.time() * 1000 - t0)
            assert v.value == 400000
    else:
        ctx = mp.get_context(method)
        for i in range(n):
            path = os.path.join(d, "t%d" % i)
            p = ctx.Process(target=mark, args=(path,))
            t0 = time.time() * 1000
            p.start(); p.join()
            out["join"].append(time.time() * 1000 - t0)
            with open(path) as f:
                out["first"].append(float(f.read()) - t0)
        for r in range(3):
            t0 = time.time() * 1000
            ps = [ctx.Process(target=mark, args=(os.path.join(d, "b%d-%d" % (r, k)),)) for k in range(10)]
            for p in ps: p.start()
            for p in ps: p.join()
            out["burst"].append(time.time() * 1000 - t0)
    print(json.dumps(out))
