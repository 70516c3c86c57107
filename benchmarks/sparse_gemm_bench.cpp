// twofour 2:4 sparse GEMM/GEMV against its peers, in one run, at 1 and 2 threads:
//   twofour   twofour::gemm::gemm on the 2:4 compressed A (default instruction set)
//   eigen     Eigen dense C = A*B on the decompressed A (the peer a 2:4 kernel must beat)
//   csr       Eigen SparseMatrix<float, RowMajor> (CSR) * dense, same 50% sparsity
// Counter GFLOPS = useful flops only: 2 * (kept multiply-adds) = M*N*K per iteration, the same
// for every peer, so the GFLOPS ratios are time ratios.
// Shapes: square 1024, 2048, 4096; GEMV 4096x4096 with N = 1 and 8; transformer-like FFN down
// projection M = 4096 outputs, K = 11008 inputs, N = 16 tokens.
// The build compiles this file with -march=native (TWOFOUR_GEMM_BENCH_NATIVE) so that Eigen's
// peers use the machine's best SIMD, as twofour's runtime dispatch does.
// Suggested run (a few minutes on 2 cores):
//   twofour_sparse_gemm_bench --benchmark_min_time=0.3 --benchmark_repetitions=3
//                             --benchmark_report_aggregates_only=true
// GCC 12 flags its own AVX-512 intrinsics (as inlined into Eigen under -march=native) with
// -Wmaybe-uninitialized: a header false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <benchmark/benchmark.h>
#include <omp.h>

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Csr = Eigen::SparseMatrix<float, Eigen::RowMajor, int>;

struct Problem {
  std::size_t m = 0, k = 0, n = 0;
  std::vector<float> values;
  std::vector<std::uint16_t> meta;
  RowMatrix dense_a, b, c;
  Csr csr;
};

// One problem at a time (the 4096 shapes need ~300 MB); benchmarks of a shape run together.
Problem& problem(std::size_t m, std::size_t k, std::size_t n) {
  static std::unique_ptr<Problem> p;
  if (p && p->m == m && p->k == k && p->n == n) return *p;
  p.reset();
  p = std::make_unique<Problem>();
  p->m = m;
  p->k = k;
  p->n = n;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  static constexpr unsigned kPairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  const std::size_t mw = twofour::sparse::meta_words_per_row(k);
  p->values.resize(m * k / 2);
  p->meta.assign(m * mw, 0);
  p->dense_a = RowMatrix::Zero(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(k));
  p->csr.resize(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(k));
  p->csr.reserve(Eigen::VectorXi::Constant(static_cast<Eigen::Index>(m), static_cast<int>(k / 2)));
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t g = 0; g < k / 4; ++g) {
      const auto& pair = kPairs[rng() % 6];
      p->meta[i * mw + g / 4] |= static_cast<std::uint16_t>(twofour::sparse::make_nibble(pair[0], pair[1]) << (4 * (g % 4)));
      for (int s = 0; s < 2; ++s) {
        const float v = u(rng);
        const auto col = static_cast<Eigen::Index>(4 * g + pair[s]);
        p->values[i * k / 2 + 2 * g + static_cast<std::size_t>(s)] = v;
        p->dense_a(static_cast<Eigen::Index>(i), col) = v;
        p->csr.insert(static_cast<Eigen::Index>(i), col) = v;
      }
    }
  }
  p->csr.makeCompressed();
  p->b = RowMatrix::NullaryExpr(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(n), [&]() { return u(rng); });
  p->c = RowMatrix::Zero(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(n));
  return *p;
}

void set_counters(benchmark::State& state, const Problem& p) {
  const double flops = static_cast<double>(p.m) * static_cast<double>(p.n) * static_cast<double>(p.k);
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = static_cast<double>(state.range(3));
}

void run_twofour(benchmark::State& state, bool validate) {
  Problem& p = problem(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)),
                       static_cast<std::size_t>(state.range(2)));
  twofour::gemm::GemmOptions o;
  o.threads = static_cast<int>(state.range(3));
  o.validate_metadata = validate;
  const twofour::sparse::RowMajor24View<float> a{p.values.data(), p.meta.data(), p.m, p.k};
  for (auto _ : state) {
    twofour::gemm::gemm(a, p.b.data(), p.n, p.c.data(), p.n, p.n, o);
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(twofour::gemm::isa_name(twofour::gemm::default_isa())));
  set_counters(state, p);
}

// Default options: metadata validated on every call.
void BM_twofour(benchmark::State& state) { run_twofour(state, true); }
// Metadata trusted (validated once when the weights were loaded): the inference setting.
void BM_twofour_trusted(benchmark::State& state) { run_twofour(state, false); }

void BM_eigen_dense(benchmark::State& state) {
  Problem& p = problem(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)),
                       static_cast<std::size_t>(state.range(2)));
  Eigen::setNbThreads(static_cast<int>(state.range(3)));
  for (auto _ : state) {
    if (p.n == 1) {
      // Matrix-vector: Eigen's GEMV (it does not thread GEMV).
      p.c.col(0).noalias() = p.dense_a * p.b.col(0);
    } else {
      p.c.noalias() = p.dense_a * p.b;
    }
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
}

void BM_eigen_csr(benchmark::State& state) {
  Problem& p = problem(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)),
                       static_cast<std::size_t>(state.range(2)));
  Eigen::setNbThreads(static_cast<int>(state.range(3)));
  for (auto _ : state) {
    if (p.n == 1) {
      p.c.col(0).noalias() = p.csr * p.b.col(0);
    } else {
      p.c.noalias() = p.csr * p.b;
    }
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
}

void register_all() {
  const std::int64_t shapes[][3] = {{4096, 4096, 1}, {4096, 4096, 8}, {4096, 11008, 16},
                                    {1024, 1024, 1024}, {2048, 2048, 2048}, {4096, 4096, 4096}};
  for (const auto& s : shapes) {
    for (std::int64_t threads : {1, 2}) {
      const std::string shape = std::to_string(s[0]) + "x" + std::to_string(s[1]) + "xN" + std::to_string(s[2]) +
                                "/threads:" + std::to_string(threads);
      const std::vector<std::int64_t> args = {s[0], s[1], s[2], threads};
      benchmark::RegisterBenchmark(("twofour/" + shape).c_str(), BM_twofour)->Args(args)->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("twofour_trusted/" + shape).c_str(), BM_twofour_trusted)->Args(args)->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("eigen_dense/" + shape).c_str(), BM_eigen_dense)->Args(args)->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("eigen_csr/" + shape).c_str(), BM_eigen_csr)->Args(args)->UseRealTime()->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
