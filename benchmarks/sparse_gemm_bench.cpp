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
// After the usual console output, a summary table gives per shape and thread count each peer's
// useful GFLOP/s from its median (or only) time, twofour's speed-up over Eigen dense and CSR
// from the same run, and each peer's 1 -> 2 thread scaling.
// Suggested run (a few minutes on 2 cores; the 4096^3 shape alone takes minutes, so give it
// one repetition):
//   twofour_sparse_gemm_bench --benchmark_filter=-4096x4096xN4096 --benchmark_min_time=0.3
//                             --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//   twofour_sparse_gemm_bench --benchmark_filter=4096x4096xN4096 --benchmark_min_time=0.01
// On a shared, oversubscribed machine OMP_WAIT_POLICY=passive keeps spinning OpenMP threads
// from stealing the time slices of the team's own descheduled thread (both twofour and Eigen).
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
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "twofour/gemm/nm_gemm.hpp"
#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

std::string load_average();

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Csr = Eigen::SparseMatrix<float, Eigen::RowMajor, int>;

struct Problem {
  std::size_t m = 0, k = 0, n = 0;
  // 64-byte aligned like Eigen's own matrices here (EIGEN_MAX_ALIGN_BYTES under AVX-512), so
  // no peer pays for cache-line-splitting vector loads that a weight loader would avoid.
  std::vector<float, Eigen::aligned_allocator<float>> values;
  std::vector<std::uint16_t, Eigen::aligned_allocator<std::uint16_t>> meta;
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

// The generic N:M path (nm_gemm.hpp) at other patterns, one thread, trusted indices; GFLOPS
// counts its kept multiply-adds (2 * M*N*K * N/M). The 2:4 row measures what genericity
// costs against the 2:4 kernels above. Not in the summary table (no peers).
void BM_generic_nm(benchmark::State& state) {
  const auto m = static_cast<std::size_t>(state.range(0)), k = static_cast<std::size_t>(state.range(1)),
             n = static_cast<std::size_t>(state.range(2));
  const twofour::sparse::NMPattern pattern{static_cast<int>(state.range(3)), static_cast<int>(state.range(4))};
  const auto kept_per_group = static_cast<std::size_t>(pattern.n), group = static_cast<std::size_t>(pattern.m);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const std::size_t kept = twofour::gemm::nm_kept_cols(k, pattern);
  std::vector<float, Eigen::aligned_allocator<float>> values(m * kept), b(k * n), c(m * n);
  std::vector<std::uint8_t> indices(m * kept);
  for (auto& v : values) v = u(rng);
  for (auto& v : b) v = u(rng);
  std::vector<std::uint8_t> cols(group);
  for (std::size_t g = 0; g < m * k / group; ++g) {
    for (std::size_t i = 0; i < group; ++i) cols[i] = static_cast<std::uint8_t>(i);
    std::shuffle(cols.begin(), cols.end(), rng);
    std::sort(cols.begin(), cols.begin() + static_cast<std::ptrdiff_t>(kept_per_group));
    std::copy(cols.begin(), cols.begin() + static_cast<std::ptrdiff_t>(kept_per_group),
              indices.begin() + static_cast<std::ptrdiff_t>(g * kept_per_group));
  }
  const twofour::gemm::RowMajorNMView a{values.data(), indices.data(), m, k, pattern};
  twofour::gemm::GemmOptions o;
  o.threads = 1;
  o.validate_metadata = false;
  for (auto _ : state) {
    twofour::gemm::nm_gemm(a, b.data(), n, c.data(), n, n, o);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(kept);
  state.counters["GFLOPS"] = benchmark::Counter(2 * macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
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
  const std::int64_t nm_shapes[][3] = {{4096, 4096, 1}, {4096, 4096, 8}, {1024, 1024, 1024}};
  const std::int64_t patterns[][2] = {{2, 4}, {1, 4}, {2, 8}, {4, 8}};
  for (const auto& s : nm_shapes) {
    for (const auto& p : patterns) {
      const std::string name = "generic_" + std::to_string(p[0]) + "of" + std::to_string(p[1]) + "/" +
                               std::to_string(s[0]) + "x" + std::to_string(s[1]) + "xN" + std::to_string(s[2]);
      benchmark::RegisterBenchmark(name.c_str(), BM_generic_nm)->Args({s[0], s[1], s[2], p[0], p[1]})->UseRealTime()->Unit(benchmark::kMillisecond);
    }
  }
}

// The console output plus, at the end, one table with the ratios of a shape's peers taken from
// the same run: per (shape, threads) the median (or the only) real time of each peer, useful
// GFLOP/s, twofour's speed-up over Eigen dense and CSR, and each peer's 1 -> 2 thread scaling.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      const bool single = r.run_type == Run::RT_Iteration && r.repetitions <= 1;
      if (!median && !single) continue;
      // function_name: "<peer>/<M>x<K>xN<N>/threads:<t>"
      const std::string& f = r.run_name.function_name;
      const auto s1 = f.find('/');
      const auto s2 = f.find("/threads:");
      if (s1 == std::string::npos || s2 == std::string::npos) continue;
      const std::string peer = f.substr(0, s1), shape = f.substr(s1 + 1, s2 - s1 - 1);
      const int threads = std::stoi(f.substr(s2 + 9));
      seconds_[{shape, threads}][peer] = r.GetAdjustedRealTime() * unit_seconds(r.time_unit);
      cpu_seconds_[{shape, threads}][peer] = r.GetAdjustedCPUTime() * unit_seconds(r.time_unit);
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf(
        "\nSummary (median real time; GFLOP/s = M*N*K / time, i.e. 2 flops per kept multiply-add; x = speed-up of\n"
        "the faster twofour column; cpu: the trusted column's speed-up in benchmark-thread CPU time):\n");
    std::printf("%-22s %3s %10s %10s %10s %10s %9s %9s %9s %9s\n", "shape", "thr", "twofour", "trusted", "eigen", "csr",
                "x dense", "x csr", "cpu:dense", "cpu:csr");
    for (const auto& [key, peers] : seconds_) {
      const double flops = flops_of(key.first);
      auto gf = [&](const char* peer) {
        const auto it = peers.find(peer);
        return it == peers.end() ? 0.0 : flops / it->second * 1e-9;
      };
      const double best = std::max(gf("twofour"), gf("twofour_trusted"));
      // The same ratios from the benchmark thread's CPU time: on a shared, oversubscribed machine
      // the share of the core a run got varies between peers; CPU time factors it out (for one
      // thread; at two, the other thread's time is not counted).
      const auto& cpu = cpu_seconds_[key];
      auto cpu_ratio = [&](const char* peer) {
        const auto it = cpu.find(peer);
        const auto t = cpu.find("twofour_trusted");
        return it == cpu.end() || t == cpu.end() ? 0.0 : it->second / t->second;
      };
      std::printf("%-22s %3d %10.2f %10.2f %10.2f %10.2f %9.2f %9.2f %9.2f %9.2f\n", key.first.c_str(), key.second,
                  gf("twofour"), gf("twofour_trusted"), gf("eigen_dense"), gf("eigen_csr"),
                  gf("eigen_dense") > 0 ? best / gf("eigen_dense") : 0.0, gf("eigen_csr") > 0 ? best / gf("eigen_csr") : 0.0,
                  cpu_ratio("eigen_dense"), cpu_ratio("eigen_csr"));
    }
    std::printf("\n1 -> 2 thread scaling (GFLOP/s at 2 threads / at 1 thread):\n");
    std::printf("%-22s %10s %10s %10s %10s\n", "shape", "twofour", "trusted", "eigen", "csr");
    for (const auto& [key, peers] : seconds_) {
      if (key.second != 1) continue;
      const auto two = seconds_.find({key.first, 2});
      if (two == seconds_.end()) continue;
      auto scale = [&](const char* peer) {
        const auto a = peers.find(peer);
        const auto b = two->second.find(peer);
        return a == peers.end() || b == two->second.end() ? 0.0 : a->second / b->second;
      };
      std::printf("%-22s %10.2f %10.2f %10.2f %10.2f\n", key.first.c_str(), scale("twofour"), scale("twofour_trusted"),
                  scale("eigen_dense"), scale("eigen_csr"));
    }
    std::printf("\nload average at the end (contention on a shared machine): %s\n", load_average().c_str());
  }

 private:
  static double unit_seconds(benchmark::TimeUnit u) {
    switch (u) {
      case benchmark::kNanosecond: return 1e-9;
      case benchmark::kMicrosecond: return 1e-6;
      case benchmark::kMillisecond: return 1e-3;
      case benchmark::kSecond: return 1.0;
    }
    return 1.0;
  }
  static double flops_of(const std::string& shape) {  // "<M>x<K>xN<N>"
    std::size_t m = 0, k = 0, n = 0;
    if (std::sscanf(shape.c_str(), "%zux%zuxN%zu", &m, &k, &n) != 3) return 0.0;
    return static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n);
  }
  std::map<std::pair<std::string, int>, std::map<std::string, double>> seconds_, cpu_seconds_;
};

}  // namespace

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("load average at the start: %s\n", load_average().c_str());
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
