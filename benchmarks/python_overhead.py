"""Overhead of the Python bindings: a 4096 x 4096 magnitude 2:4 mask (twofour.prune.mask) and a
4096 x 4096 float16 compress to the CUTLASS layout (twofour.sparse.compress), timed from Python
and, on the same .npy inputs, from C++ (twofour_python_overhead_bench, the calls the bindings
make). C++ and Python runs alternate (ROUNDS rounds of REPETITIONS calls each) so that load from
other processes hits both alike; prints medians and minima over all calls and the Python / C++
ratios, for wall-clock and process CPU time. The goal is <= 1.1 (no hidden copies); on a loaded
machine the CPU-time ratios and the ratios of minima are the ones to trust.

  PYTHONPATH=build/release/python python3 benchmarks/python_overhead.py \
      build/release/benchmarks/twofour_python_overhead_bench [REPETITIONS [ROUNDS]]
"""
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import twofour


def timed(call, repetitions):
    wall, cpu = [], []
    for _ in range(repetitions):
        start, cpu_start = time.perf_counter(), time.process_time()
        call()
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - start)
    return {"wall": wall, "cpu": cpu}


def main():
    bench = sys.argv[1]
    repetitions = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4096, 4096)).astype(np.float32)
    w24 = np.where(twofour.prune.mask(w), w, 0).astype(np.float16)
    calls = {"mask": lambda: twofour.prune.mask(w), "compress": lambda: twofour.sparse.compress(w24, layout="cutlass")}
    cpp = {(name, kind): [] for name in calls for kind in ("wall", "cpu")}
    py = {(name, kind): [] for name in calls for kind in ("wall", "cpu")}
    with tempfile.TemporaryDirectory() as tmp:
        np.save(pathlib.Path(tmp) / "w.npy", w)
        np.save(pathlib.Path(tmp) / "w24.npy", w24)
        for _ in range(rounds):
            out = subprocess.run([bench, f"{tmp}/w.npy", f"{tmp}/w24.npy", str(repetitions)], capture_output=True,
                                 text=True, check=True).stdout
            for line in out.splitlines():  # "<name> wall|cpu <seconds of each repetition>"
                name, kind, *seconds = line.split()
                cpp[name, kind] += [float(s) for s in seconds]
            for name, call in calls.items():
                for kind, seconds in timed(call, repetitions).items():
                    py[name, kind] += seconds
    print(f"{'call (4096 x 4096)':30s} {'time':4s} {'C++ median':>11s} {'Python median':>14s} {'ratio':>6s} "
          f"{'C++ min':>9s} {'Python min':>11s} {'ratio':>6s}")
    for name, label in (("mask", "prune.mask magnitude 2:4"), ("compress", "sparse.compress fp16 cutlass")):
        for kind in ("wall", "cpu"):
            c, p = cpp[name, kind], py[name, kind]
            cm, pm, cl, pl = statistics.median(c), statistics.median(p), min(c), min(p)
            print(f"{label:30s} {kind:4s} {cm * 1e3:9.1f}ms {pm * 1e3:12.1f}ms {pm / cm:6.3f} {cl * 1e3:7.1f}ms"
                  f" {pl * 1e3:9.1f}ms {pl / cl:6.3f}")

if __name__ == "__main__":
    main()
