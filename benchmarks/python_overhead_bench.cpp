// The C++ side of the Python overhead benchmark (benchmarks/python_overhead.py): times the very
// calls the bindings make, on the same .npy inputs the script times from Python.
//   twofour_python_overhead_bench W.npy W24.npy REPETITIONS
// W: float32 weights for prune::prune_nm (magnitude, 2:4), as twofour.prune.mask calls it;
// W24: a float16 2:4 matrix for sparse::compress (cutlass layout), as twofour.sparse.compress.
// Prints two lines per call: "<name> wall <seconds of each repetition>" and "<name> cpu <...>",
// the wall-clock time and the process's CPU time (less sensitive to other processes' load).
#include "twofour/io/npy.hpp"
#include "twofour/prune/criterion.hpp"
#include "twofour/sparse/compress.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace {

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

void time_call(const char* name, int repetitions, const std::function<void()>& call) {
  std::vector<double> wall, cpu;
  for (int i = 0; i < repetitions; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    call();
    cpu.push_back(cpu_seconds() - cpu_start);
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  for (const auto& [kind, seconds] : {std::pair{"wall", &wall}, std::pair{"cpu", &cpu}}) {
    std::printf("%s %s", name, kind);
    for (double s : *seconds) std::printf(" %.6f", s);
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s W.npy W24.npy REPETITIONS\n", argv[0]);
    return 2;
  }
  using namespace twofour;
  const io::Array w = io::read_npy(argv[1]);
  const io::Array w24 = io::read_npy(argv[2]);
  const int repetitions = std::max(1, std::atoi(argv[3]));
  if (w.dtype != io::DType::f32 || w24.dtype != io::DType::f16 || w.shape.size() != 2 || w24.shape.size() != 2) {
    std::fprintf(stderr, "expected a float32 and a float16 matrix\n");
    return 1;
  }
  const std::span<const float> weights(reinterpret_cast<const float*>(w.data.data()), w.numel());
  time_call("mask", repetitions, [&] {
    const prune::PruneResult r = prune::prune_nm(weights, w.shape, prune::PruneSpec{});
    if (r.mask.size() != weights.size()) std::abort();
  });
  time_call("compress", repetitions, [&] {
    const sparse::Compressed c = sparse::compress(w24.data, sparse::ElementType::f16, w24.shape[0], w24.shape[1],
                                                  sparse::MetaLayout::cutlass);
    if (c.values.empty()) std::abort();
  });
  return 0;
}
