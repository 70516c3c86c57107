// twofour 2:4 sparse GEMM/GEMV against its peers, in one run, at 1 and 2 threads:
//   twofour          twofour::gemm::gemm on the 2:4 compressed fp32 A (default instruction set),
//                    metadata validated on every call (the default)
//   twofour_trusted  the same with validation off (metadata checked once at load)
//   eigen_dense      Eigen dense C = A*B on the decompressed A (-march=native)
//   openblas         OpenBLAS cblas_sgemm (cblas_sgemv at N = 1) on the decompressed A
//   eigen_csr        Eigen SparseMatrix<float, RowMajor> (CSR) * dense, same 50% sparsity
// 16-bit weights (fp32 activations, fp32 accumulation and C):
//   twofour_bf16, twofour_bf16_trusted, twofour_fp16   the 2:4 A with bf16 / fp16 values
//                    (rounded to nearest even by twofour::gemm::round_to_half), same metadata
//   dense_bf16       twofour::gemm::dense_gemv (N = 1 only): dense bf16 A, fp32 x, through the
//                    same dispatch: the dense 16-bit peer, since Debian's OpenBLAS 0.3.21 is built
//                    without its bf16 routines (cblas.h declares them, libopenblas lacks them)
//   openblas_bf16    OpenBLAS cblas_sbgemm / cblas_sbgemv (dense bf16 A and B or x, fp32 C), only
//                    when the OpenBLAS linked at run time has them (weak references)
//   read_bandwidth   a 256 MB read-only sum (Eigen, vectorised): the memory bandwidth that bounds
//                    the memory-bound GEMV rows; the summary turns it into each GEMV's floor
//                    (bytes streamed per dense multiply-add / bandwidth)
// Counter GFLOPS = useful flops only: 2 * (kept multiply-adds) = M*N*K per iteration, the same
// for every peer, so the GFLOPS ratios are time ratios.
// Shapes: square 1024, 2048, 4096; GEMV 4096x4096 with N = 1 and 8; transformer-like FFN down
// projection M = 4096 outputs, K = 11008 inputs, N = 16 tokens.
// The build compiles this file with -march=native (TWOFOUR_GEMM_BENCH_NATIVE) so that Eigen's
// peers use the machine's best SIMD, as twofour's runtime dispatch does; OpenBLAS picks its
// kernels for the CPU at run time (Debian's DYNAMIC_ARCH build).
// After the usual console output, summary tables give per shape and thread count each peer's
// useful GFLOP/s from its median (or only) time, twofour's speed-up over the BEST dense peer
// (and over CSR) from the same run with the goal where one is set, and each peer's 1 -> 2
// thread scaling.
// Suggested run (a few minutes on 2 cores; the 4096^3 shape alone takes minutes, so give it
// one repetition):
//   twofour_sparse_gemm_bench --benchmark_filter=-4096x4096xN4096 --benchmark_min_time=0.3
//                             --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//   twofour_sparse_gemm_bench --benchmark_filter=4096x4096xN4096 --benchmark_min_time=0.01
// On a shared, oversubscribed machine OMP_WAIT_POLICY=passive keeps spinning OpenMP threads
// from stealing the time slices of the team's own descheduled thread (both twofour and Eigen),
// and --benchmark_enable_random_interleaving=true spreads bursts of load over all peers.
// GCC 12 flags its own AVX-512 intrinsics (as inlined into Eigen under -march=native) with
// -Wmaybe-uninitialized: a header false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <benchmark/benchmark.h>
#include <cblas.h>
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

#include "twofour/gemm/dense_gemv.hpp"
#include "twofour/gemm/nm_gemm.hpp"
#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

std::string load_average();

// OpenBLAS's bf16 routines exist only in builds with BUILD_BFLOAT16: weak references are null
// when the library lacks them (Debian's 0.3.21), and the openblas_bf16 peer is then not run.
#pragma weak cblas_sbgemm
#pragma weak cblas_sbgemv

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
  // 16-bit copies, made on first use (half_data()).
  std::vector<std::uint16_t, Eigen::aligned_allocator<std::uint16_t>> values_bf16, values_fp16, dense_a_bf16, b_bf16;

  void half_data() {
    if (!values_bf16.empty()) return;
    using twofour::gemm::HalfType;
    auto round = [](const float* in, std::size_t count, HalfType type, auto& out) {
      out.resize(count);
      twofour::gemm::round_to_half(in, out.data(), count, type);
    };
    round(values.data(), values.size(), HalfType::bf16, values_bf16);
    round(values.data(), values.size(), HalfType::fp16, values_fp16);
    round(dense_a.data(), static_cast<std::size_t>(dense_a.size()), HalfType::bf16, dense_a_bf16);
    round(b.data(), static_cast<std::size_t>(b.size()), HalfType::bf16, b_bf16);
  }
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

// 16-bit values, fp32 B.
void run_twofour_half(benchmark::State& state, twofour::gemm::HalfType type, bool validate) {
  Problem& p = problem(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)),
                       static_cast<std::size_t>(state.range(2)));
  p.half_data();
  twofour::gemm::GemmOptions o;
  o.threads = static_cast<int>(state.range(3));
  o.validate_metadata = validate;
  const auto& v = type == twofour::gemm::HalfType::bf16 ? p.values_bf16 : p.values_fp16;
  const twofour::sparse::RowMajor24View<std::uint16_t> a{v.data(), p.meta.data(), p.m, p.k};
  for (auto _ : state) {
    twofour::gemm::gemm(a, type, p.b.data(), p.n, p.c.data(), p.n, p.n, o);
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(twofour::gemm::isa_name(twofour::gemm::default_isa())));
  set_counters(state, p);
}
void BM_twofour_bf16(benchmark::State& state) { run_twofour_half(state, twofour::gemm::HalfType::bf16, true); }
void BM_twofour_bf16_trusted(benchmark::State& state) {
  run_twofour_half(state, twofour::gemm::HalfType::bf16, false);
}
void BM_twofour_fp16(benchmark::State& state) { run_twofour_half(state, twofour::gemm::HalfType::fp16, true); }

// OpenBLAS fp32: sgemv at N = 1 (y = A x), else sgemm; row-major, on the decompressed A.
void BM_openblas(benchmark::State& state) {
  Problem& p = problem(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)),
                       static_cast<std::size_t>(state.range(2)));
  openblas_set_num_threads(static_cast<int>(state.range(3)));
  const auto m = static_cast<blasint>(p.m), k = static_cast<blasint>(p.k), n = static_cast<blasint>(p.n);
  for (auto _ : state) {
    if (p.n == 1) {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0f, p.dense_a.data(), k, p.b.data(), 1, 0.0f, p.c.data(), 1);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, p.dense_a.data(), k, p.b.data(), n, 0.0f,
                  p.c.data(), n);
    }
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
}

// twofour's dense bf16 GEMV (N = 1): the dense 16-bit peer when OpenBLAS has none.
void BM_dense_bf16(benchmark::State& state) {
  Problem& p = problem(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)),
                       static_cast<std::size_t>(state.range(2)));
  p.half_data();
  twofour::gemm::GemmOptions o;
  o.threads = static_cast<int>(state.range(3));
  for (auto _ : state) {
    twofour::gemm::dense_gemv(p.dense_a_bf16.data(), twofour::gemm::HalfType::bf16, p.m, p.k, p.k, p.b.data(),
                              p.c.data(), o);
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
}

// OpenBLAS bf16 (fp32 accumulation and C): sbgemv at N = 1, else sbgemm; dense bf16 A and B.
void BM_openblas_bf16(benchmark::State& state) {
  Problem& p = problem(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)),
                       static_cast<std::size_t>(state.range(2)));
  p.half_data();
  openblas_set_num_threads(static_cast<int>(state.range(3)));
  const auto m = static_cast<blasint>(p.m), k = static_cast<blasint>(p.k), n = static_cast<blasint>(p.n);
  for (auto _ : state) {
    if (p.n == 1) {
      cblas_sbgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0f, p.dense_a_bf16.data(), k, p.b_bf16.data(), 1, 0.0f,
                   p.c.data(), 1);
    } else {
      cblas_sbgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, p.dense_a_bf16.data(), k,
                   p.b_bf16.data(), n, 0.0f, p.c.data(), n);
    }
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
}

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

// Memory read bandwidth: threads sum disjoint halves of a 256 MB array (far beyond L3).
void BM_read_bandwidth(benchmark::State& state) {
  static std::vector<float, Eigen::aligned_allocator<float>> data(std::size_t{64} << 20, 1.0f);
  const int threads = static_cast<int>(state.range(0));
  const auto n = static_cast<std::ptrdiff_t>(data.size());
  for (auto _ : state) {
    float total = 0.0f;
#pragma omp parallel for num_threads(threads) reduction(+ : total) schedule(static)
    for (int t = 0; t < threads; ++t) {
      const std::ptrdiff_t begin = n * t / threads, end = n * (t + 1) / threads;
      total += Eigen::Map<const Eigen::VectorXf>(data.data() + begin, end - begin).sum();
    }
    benchmark::DoNotOptimize(total);
  }
  state.counters["GBps"] = benchmark::Counter(static_cast<double>(data.size() * sizeof(float)) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
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
      benchmark::RegisterBenchmark(("openblas/" + shape).c_str(), BM_openblas)->Args(args)->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("eigen_csr/" + shape).c_str(), BM_eigen_csr)->Args(args)->UseRealTime()->Unit(benchmark::kMillisecond);
      if (s[0] * s[2] <= 2048 * 2048) {  // 16-bit peers: not at 4096^3 (minutes per run, nothing new)
        benchmark::RegisterBenchmark(("twofour_bf16/" + shape).c_str(), BM_twofour_bf16)->Args(args)->UseRealTime()->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("twofour_bf16_trusted/" + shape).c_str(), BM_twofour_bf16_trusted)->Args(args)->UseRealTime()->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("twofour_fp16/" + shape).c_str(), BM_twofour_fp16)->Args(args)->UseRealTime()->Unit(benchmark::kMillisecond);
        if (s[2] == 1) {
          benchmark::RegisterBenchmark(("dense_bf16/" + shape).c_str(), BM_dense_bf16)->Args(args)->UseRealTime()->Unit(benchmark::kMillisecond);
        }
        if (&cblas_sbgemm != nullptr && &cblas_sbgemv != nullptr) {
          benchmark::RegisterBenchmark(("openblas_bf16/" + shape).c_str(), BM_openblas_bf16)->Args(args)->UseRealTime()->Unit(benchmark::kMillisecond);
        }
      }
    }
  }
  for (std::int64_t threads : {1, 2}) {
    benchmark::RegisterBenchmark(("read_bandwidth/threads:" + std::to_string(threads)).c_str(), BM_read_bandwidth)
        ->Arg(threads)->UseRealTime()->Unit(benchmark::kMillisecond);
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
      if (f.rfind("read_bandwidth/threads:", 0) == 0) {
        bandwidth_[std::stoi(f.substr(23))] = r.counters.at("GBps");
        continue;
      }
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
        "\nSummary, fp32 (median real time; GFLOP/s = M*N*K / time, i.e. 2 flops per kept multiply-add). best: the\n"
        "faster dense peer of the row; x best: twofour's speed-up over it (validated / trusted metadata); goal: the\n"
        "speed-up twofour (validated) is to reach; cpu: the validated speed-up in benchmark-thread CPU time):\n");
    std::printf("%-18s %3s %8s %8s %8s %8s %8s %9s %7s %7s %6s %6s %6s\n", "shape", "thr", "twofour", "trusted",
                "eigen", "openblas", "csr", "best", "x best", "x trust", "goal", "x csr", "cpu");
    for (const auto& [key, peers] : seconds_) {
      const double flops = flops_of(key.first);
      auto gf = [&](const char* peer) { return gflops(peers, peer, flops); };
      const bool eigen_best = gf("eigen_dense") >= gf("openblas");
      const char* best = eigen_best ? "eigen_dense" : "openblas";
      const double best_gf = gf(best);
      auto ratio = [&](double x, double y) { return y > 0 ? x / y : 0.0; };
      // CPU-time ratio: on a shared, oversubscribed machine the share of the core a run got varies
      // between peers; CPU time factors it out (for one thread; at two, the other's is not counted).
      const auto& cpu = cpu_seconds_[key];
      const auto tc = cpu.find("twofour"), bc = cpu.find(best);
      const double cpu_ratio = tc == cpu.end() || bc == cpu.end() ? 0.0 : bc->second / tc->second;
      std::printf("%-18s %3d %8.2f %8.2f %8.2f %8.2f %8.2f %9s %7.2f %7.2f %6s %6.2f %6.2f\n", key.first.c_str(),
                  key.second, gf("twofour"), gf("twofour_trusted"), gf("eigen_dense"), gf("openblas"), gf("eigen_csr"),
                  eigen_best ? "eigen" : "openblas", ratio(gf("twofour"), best_gf), ratio(gf("twofour_trusted"), best_gf),
                  goal_fp32(key.first), ratio(gf("twofour"), gf("eigen_csr")), cpu_ratio);
    }
    std::printf(
        "\nSummary, 16-bit weights (2:4 values bf16 / fp16, fp32 activations and accumulation; d_bf16 = twofour's\n"
        "dense bf16 GEMV, ob_bf16 = OpenBLAS sbgemm/sbgemv where the library has them; 0 = not run): GFLOP/s, and\n"
        "twofour bf16's (validated) speed-up over the best dense fp32 peer, over OpenBLAS fp32 (goal at N = 1: 2.5)\n"
        "and over the best dense bf16 peer:\n");
    std::printf("%-18s %3s %8s %8s %8s %8s %8s %9s %7s %7s %6s %7s\n", "shape", "thr", "bf16", "trusted", "fp16",
                "d_bf16", "ob_bf16", "best fp32", "x best", "x ob32", "goal", "x bf16");
    for (const auto& [key, peers] : seconds_) {
      if (peers.find("twofour_bf16") == peers.end()) continue;
      const double flops = flops_of(key.first);
      auto gf = [&](const char* peer) { return gflops(peers, peer, flops); };
      const double best32 = std::max(gf("eigen_dense"), gf("openblas"));
      auto ratio = [&](double x, double y) { return y > 0 ? x / y : 0.0; };
      const double best16 = std::max(gf("dense_bf16"), gf("openblas_bf16"));
      std::printf("%-18s %3d %8.2f %8.2f %8.2f %8.2f %8.2f %9.2f %7.2f %7.2f %6s %7.2f\n", key.first.c_str(),
                  key.second, gf("twofour_bf16"), gf("twofour_bf16_trusted"), gf("twofour_fp16"), gf("dense_bf16"),
                  gf("openblas_bf16"), best32, ratio(gf("twofour_bf16"), best32), ratio(gf("twofour_bf16"), gf("openblas")),
                  key.first.ends_with("xN1") ? "2.5" : "-", ratio(gf("twofour_bf16"), best16));
    }
    if (!bandwidth_.empty()) {
      // Bytes streamed per dense multiply-add (M*K of the GEMV): dense fp32 4, dense bf16 2,
      // 2:4 fp32 (4 + 0.25 metadata per kept element, half kept) 2.125, 2:4 bf16 1.125.
      std::printf(
          "\nMemory bound of the GEMV rows (N = 1): read bandwidth (GB/s, median) and the GFLOP/s it allows at\n"
          "4 / 2 / 2.125 / 1.125 bytes per dense multiply-add (dense fp32, dense bf16, 2:4 fp32, 2:4 bf16):\n");
      for (const auto& [threads, gbps] : bandwidth_) {
        std::printf("threads %d: %6.1f GB/s -> dense fp32 %5.2f, dense bf16 %5.2f, 2:4 fp32 %5.2f, 2:4 bf16 %5.2f\n",
                    threads, gbps, gbps / 4, gbps / 2, gbps / 2.125, gbps / 1.125);
      }
    }
    std::printf("\n1 -> 2 thread scaling (GFLOP/s at 2 threads / at 1 thread):\n");
      const char* const scaled[] = {"twofour", "twofour_trusted", "eigen_dense", "openblas", "eigen_csr", "twofour_bf16",
                                  "dense_bf16"};
    std::printf("%-18s", "shape");
    for (const char* peer : scaled) std::printf(" %15s", peer);
    std::printf("\n");
    for (const auto& [key, peers] : seconds_) {
      if (key.second != 1) continue;
      const auto two = seconds_.find({key.first, 2});
      if (two == seconds_.end()) continue;
      std::printf("%-18s", key.first.c_str());
      for (const char* peer : scaled) {
        const auto a = peers.find(peer);
        const auto b = two->second.find(peer);
        std::printf(" %15.2f", a == peers.end() || b == two->second.end() ? 0.0 : a->second / b->second);
      }
      std::printf("\n");
    }
    std::printf("\nload average at the end (contention on a shared machine): %s\n", load_average().c_str());
  }

 private:
  static double gflops(const std::map<std::string, double>& peers, const char* peer, double flops) {
    const auto it = peers.find(peer);
    return it == peers.end() ? 0.0 : flops / it->second * 1e-9;
  }
  // The goals against the best dense fp32 peer: square 2048 >= 1.3x, GEMV (N = 1) >= 1.6x.
  static const char* goal_fp32(const std::string& shape) {
    if (shape == "2048x2048xN2048") return "1.3";
    if (shape.ends_with("xN1")) return "1.6";
    return "-";
  }
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
  std::map<int, double> bandwidth_;  // threads -> GB/s
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
  std::printf("OpenBLAS: %s, kernels for %s; twofour: %s\n", openblas_get_config(), openblas_get_corename(),
              std::string(twofour::gemm::isa_name(twofour::gemm::default_isa())).c_str());
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
