"""Long calls release the GIL: another Python thread keeps running during them (the largest gap
between its steps stays far below the call's duration), and concurrent calls agree."""
import threading
import time

import numpy as np

from twofour import gemm, prune, sparse


def largest_gap_while(call):
    done = threading.Event()
    out = {}

    def worker():
        start = time.perf_counter()
        out["result"] = call()
        out["seconds"] = time.perf_counter() - start
        done.set()

    t = threading.Thread(target=worker)
    stamps = [time.perf_counter()]
    t.start()
    while not done.is_set():
        stamps.append(time.perf_counter())
    t.join()
    return max(np.diff(stamps)), out


def test_long_calls_release_the_gil():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((2048, 2048)).astype(np.float32)
    values, meta = sparse.compress(np.where(prune.mask(w), w, 0), layout="rowmajor")
    b = rng.standard_normal((2048, 256)).astype(np.float32)
    for call in (lambda: prune.mask(w), lambda: gemm.spmm(values, meta, b, threads=1)):
        gap, out = largest_gap_while(call)
        # with the GIL held this thread would stall for the whole call
        assert gap < 0.5 * out["seconds"], (gap, out["seconds"])


def test_concurrent_calls_agree():
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal((256, 512)).astype(np.float32) for _ in range(4)]
    expected = [prune.mask(w) for w in ws]
    results = [None] * 4
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, prune.mask(ws[i]))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(r, e) for r, e in zip(results, expected))
