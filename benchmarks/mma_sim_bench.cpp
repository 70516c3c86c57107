// Simulator speed: simulated multiply-adds per second for mma.sp m16n8k32 f16 -> f32 on sm_80,
// at warp level (run_warp, one instruction) and GEMM level (run_gemm, 1024^3, fast path), next
// to Eigen's fp32 GEMM on the same logical shape in the same run. Multiply-adds count the logical
// M*N*K (the dense-equivalent work, as Eigen does it). The GEMM benchmark reports
// `ratio_vs_eigen` = its rate / Eigen's rate at the same thread count (Eigen measured in-process
// once per thread count, median of 3), so the goal (>= 1/20 = 0.05) reads directly.
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/vectors.hpp"
#include "twofour/sim/warp.hpp"

#include <Eigen/Core>
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <stdexcept>

namespace {

using twofour::sim::spec::Arch;
using twofour::sim::spec::Instruction;

const Instruction& row() {
  const Instruction* in = twofour::sim::spec::find_instruction("SM80_SP_16x8x32_F32F16F16F32_TN");
  if (in == nullptr) throw std::runtime_error("row missing");
  return *in;
}

constexpr int kSize = 1024;

double eigen_rate(int threads) {  // multiply-adds per second, median of 3
  static std::map<int, double> cache;
  if (auto it = cache.find(threads); it != cache.end()) return it->second;
  Eigen::setNbThreads(threads);
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(kSize, kSize), b = Eigen::MatrixXf::Random(kSize, kSize);
  Eigen::MatrixXf c = Eigen::MatrixXf::Zero(kSize, kSize);
  std::vector<double> rates;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    c.noalias() += a * b;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(kSize) * kSize * kSize / s);
  }
  benchmark::DoNotOptimize(c.data());
  std::sort(rates.begin(), rates.end());
  return cache[threads] = rates[1];
}

void BM_WarpMmaSp(benchmark::State& state) {
  const Instruction& in = row();
  std::mt19937_64 rng(1);
  const twofour::sim::WarpRegisters regs =
      twofour::sim::pack_registers(in, twofour::sim::random_tile_operands(in, rng), 1);
  for (auto _ : state) {
    auto r = twofour::sim::run_warp(in, Arch::sm80, regs, 1);
    benchmark::DoNotOptimize(r.d.data());
  }
  state.counters["mac_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()) * in.m * in.n * in.k,
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WarpMmaSp)->Unit(benchmark::kMicrosecond);

void BM_GemmSim1024(benchmark::State& state) {
  const Instruction& in = row();
  const int threads = static_cast<int>(state.range(0));
  std::mt19937_64 rng(2);
  twofour::sim::GemmOperands g;
  g.a = twofour::sim::Tile(kSize, kSize / 2);
  g.b = twofour::sim::Tile(kSize, kSize);
  g.c = twofour::sim::Tile(kSize, kSize);
  for (auto& v : g.a.bits) v = twofour::sim::random_element(*in.a, rng);
  for (auto& v : g.b.bits) v = twofour::sim::random_element(*in.b, rng);
  g.metadata.resize(static_cast<std::size_t>(kSize) * kSize / 4);
  for (auto& v : g.metadata) v = twofour::sim::random_nibble(in, rng);
  twofour::sim::GemmOptions options;
  options.threads = threads;
  const double eigen = eigen_rate(threads);
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = twofour::sim::run_gemm(in, Arch::sm80, g, options);
    benchmark::DoNotOptimize(r.d.bits.data());
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double rate = static_cast<double>(state.iterations()) * kSize * kSize * kSize / seconds;
  state.counters["mac_per_s"] = rate;
  state.counters["eigen_mac_per_s"] = eigen;
  state.counters["ratio_vs_eigen"] = rate / eigen;
}
BENCHMARK(BM_GemmSim1024)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

void BM_EigenGemm1024(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  Eigen::setNbThreads(threads);
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(kSize, kSize), b = Eigen::MatrixXf::Random(kSize, kSize);
  Eigen::MatrixXf c = Eigen::MatrixXf::Zero(kSize, kSize);
  for (auto _ : state) {
    c.noalias() += a * b;
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["mac_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kSize * kSize * kSize,
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EigenGemm1024)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
