"""No references or memory leak under repeated calls: the inputs' reference counts are unchanged
and the process's resident memory stays flat over many calls that each return fresh arrays."""
import gc
import sys

import numpy as np

from twofour import formats, gemm, prune, sim, sparse


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def repeat(fn, times):
    for _ in range(times):
        fn()
    gc.collect()


def test_no_leaks_under_repeated_calls():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((128, 256)).astype(np.float32)
    x = rng.standard_normal((64, 256)).astype(np.float32)
    w24 = np.where(prune.mask(w), w, 0).astype(np.float16)
    values, meta = sparse.compress(w24, layout="rowmajor")
    b = rng.standard_normal((256, 32)).astype(np.float32)
    row = "SM80_SP_16x8x32_F32F16F16F32_TN"
    a_t, b_t = w24[:16, :16], w24[:32, :8]
    e_t = np.full((16, 8), 0b0100, np.uint8)
    a_g, b_g, e_g = w24[:16, :32], w24[:64, :8], np.full((16, 16), 0b0100, np.uint8)
    d_g = np.zeros((16, 8), np.float32)

    calls = [lambda: prune.mask(w), lambda: prune.mask(w, criterion="wanda", calib=x),
             lambda: sparse.compress(w24), lambda: sparse.decompress(*sparse.compress(w24)),
             lambda: gemm.spmm(values, meta, b), lambda: formats.to_bits(w, "bf16"),
             lambda: sim.mma(row, a_t, b_t, e=e_t), lambda: sim.layout(row),
             lambda: sim.gemm(row, a_g, b_g, e=e_g, order="cutlass,tile_k=32,split_k=2"),
             lambda: sim.check_gemm(row, a_g, b_g, d_g, e=e_g, order="cutlass,tile_k=32,split_k=2", explain=2, search=True)]
    inputs = [w, x, w24, values, meta, b, a_t, b_t, e_t, a_g, b_g, e_g, d_g]
    counts = [sys.getrefcount(a) for a in inputs]
    for fn in calls:
        repeat(fn, 20)  # warm-up: allocator pools and caches
    before = rss_bytes()
    for fn in calls:
        repeat(fn, 300)
    grown = rss_bytes() - before
    assert [sys.getrefcount(a) for a in inputs] == counts
    # 3000 calls returning ~100 KiB each: a leak of the results would add far more than 8 MiB
    assert grown < 8 << 20, f"resident memory grew by {grown} bytes"
    for _ in range(100):  # error paths release their arguments too
        try:
            prune.mask(w, criterion="no-such")
        except ValueError:
            pass
        try:
            sim.check_gemm(row, a_g, b_g, d_g, e=e_g, order="cutlass,split_k=two")
        except ValueError:
            pass
    assert [sys.getrefcount(a) for a in inputs] == counts
