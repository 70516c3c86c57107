#!/usr/bin/env bash
# The GPU half of the tiled-GEMM checks, for a machine with a GPU (not run by ctest): builds the
# CUDA targets for the present GPU, runs the GPU tests (run_gemm_on_gpu vs sim::run_gemm bit for
# bit, prune-compress vs lib), the SASS check and the GEMM benchmark, writing logs to OUT_DIR.
# Usage: tests/cuda/gpu_gemm_check.sh [OUT_DIR] [CUDA_ARCH]   (defaults: $OUT or ./gpu-gemm-out, "80;90", which the SASS check needs)
# Exit status: the first failing step's (the logs say which).
set -uo pipefail
out="${1:-${OUT:-gpu-gemm-out}}"
arch="${2:-80;90}"
build="${TWOFOUR_GPU_BUILD:-build-gpu-gemm}"
mkdir -p "$out"
export PATH="$PATH:/usr/local/cuda/bin"
status=0
step() {  # step NAME COMMAND...: runs, logs to OUT_DIR/NAME.log, remembers the first failure
  local name="$1"
  shift
  echo "== $name: $*" | tee -a "$out/summary.log"
  "$@" >"$out/$name.log" 2>&1
  local rc=$?
  echo "   exit $rc" | tee -a "$out/summary.log"
  if [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then status=$rc; fi
  return 0
}
nvidia-smi >"$out/nvidia-smi.log" 2>&1 || true
step configure cmake --preset release -B "$build" -DCMAKE_CUDA_ARCHITECTURES="$arch" -DTWOFOUR_CUDA=ON
step build cmake --build "$build" -j"$(nproc)" --target twofour_cuda_tests twofour_cuda_gemm_bench
step tests "$build/tests/twofour_cuda_tests" --gtest_filter='GpuGemm*:PruneCompress*'
step sass bash tests/cuda/check_sass.sh "$build/cuda/libtwofour_cuda.a"
step bench "$build/benchmarks/twofour_cuda_gemm_bench" --benchmark_min_time=0.3
grep -E "FAILED|differ|Skipped" "$out/tests.log" | head -40 >>"$out/summary.log" || true
tail -6 "$out/bench.log" >>"$out/summary.log" 2>/dev/null || true
cat "$out/summary.log"
exit $status
