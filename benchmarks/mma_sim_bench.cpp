// Simulator speed: simulated multiply-adds per second at warp level (run_warp, one mma.sp
// m16n8k32 f16 -> f32 on sm_80) and at GEMM level (run_gemm, 1024^3, fast path) for every
// datapath the simulator knows, next to Eigen's fp32 GEMM on the same logical shape in the same
// run. Multiply-adds count the logical M*N*K (the dense-equivalent work, as Eigen does it).
//
// BM_GemmSim1024/<datapath>/<threads> reports `ratio_vs_eigen` = its rate / Eigen's rate at the
// same thread count (both medians of 3 runs, alternating, in the same process), so the goal
// (>= 1/10 = 0.1) reads directly, and `fallback_frac`, the share of (element, k-step) pairs that
// left the vectorised kernels (0 here: Gaussian operands never overflow). BM_GemmSimIsa1024/<isa>
// runs the sm_80 f16 -> f32 row on each instruction set this CPU has (kernel_isa.hpp), 1 thread.
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/kernel_isa.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/spec/rounding.hpp"
#include "twofour/sim/vectors.hpp"
#include "twofour/sim/warp.hpp"

#include <Eigen/Core>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using twofour::sim::spec::Arch;
using twofour::sim::spec::Instruction;

const Instruction& row(const char* name) {
  const Instruction* in = twofour::sim::spec::find_instruction(name);
  if (in == nullptr) throw std::runtime_error(std::string("row missing: ") + name);
  return *in;
}

constexpr int kSize = 1024;

// One sparse row per datapath parameter set and architecture family (sm_86 runs sm_80's
// parameters, sm_100 sm_90's; docs/datapath.md), and one integer row.
struct Datapath {
  const char* label;
  const char* row;
  Arch arch;
};
constexpr Datapath kDatapaths[] = {
    {"sm80_f16_f32", "SM80_SP_16x8x32_F32F16F16F32_TN", Arch::sm80},
    {"sm80_f16_f16", "SM80_SP_16x8x32_F16F16F16F16_TN", Arch::sm80},
    {"sm80_bf16_f32", "SM80_SP_16x8x32_F32BF16BF16F32_TN", Arch::sm80},
    {"sm80_tf32_f32", "SM80_SP_16x8x16_F32TF32TF32F32_TN", Arch::sm80},
    {"sm89_e4m3_f32", "SM89_SP_16x8x64_F32E4M3E4M3F32_TN", Arch::sm89},
    {"sm90_f16_f32", "SM80_SP_16x8x32_F32F16F16F32_TN", Arch::sm90},
    {"sm90_f16_f16", "SM80_SP_16x8x32_F16F16F16F16_TN", Arch::sm90},
    {"sm90_bf16_f32", "SM80_SP_16x8x32_F32BF16BF16F32_TN", Arch::sm90},
    {"sm90_tf32_f32", "SM80_SP_16x8x16_F32TF32TF32F32_TN", Arch::sm90},
    {"sm90_e4m3_f32_lowered", "SM89_SP_16x8x64_F32E4M3E4M3F32_TN", Arch::sm90},
    {"sm80_s8_s32", "SM80_SP_16x8x64_S32S8S8S32_TN", Arch::sm80},
};

// Eigen's fp32 GEMM on the same logical shape: multiply-adds per second of one run.
struct EigenPeer {
  explicit EigenPeer(int threads)
      : a(Eigen::MatrixXf::Random(kSize, kSize)), b(Eigen::MatrixXf::Random(kSize, kSize)),
        c(Eigen::MatrixXf::Zero(kSize, kSize)), threads_(threads) {}
  double run() {
    Eigen::setNbThreads(threads_);
    const auto t0 = std::chrono::steady_clock::now();
    c.noalias() += a * b;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(c.data());
    return static_cast<double>(kSize) * kSize * kSize / s;
  }
  Eigen::MatrixXf a, b, c;
  int threads_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A 1024^3 GEMM's operands: standard normal values rounded to each format (integers: uniform),
// random valid metadata.
twofour::sim::GemmOperands gemm_operands(const Instruction& in) {
  std::mt19937_64 rng(2);
  std::normal_distribution<double> normal;
  const auto draw = [&](const twofour::sim::spec::FormatSpec& f) {
    return f.is_integer ? twofour::sim::random_element(f, rng) : twofour::sim::spec::encode(f, normal(rng));
  };
  twofour::sim::GemmOperands g;
  g.a = twofour::sim::Tile(kSize, kSize / in.chunk_width() * in.stored_per_chunk());
  g.b = twofour::sim::Tile(kSize, kSize);
  g.c = twofour::sim::Tile(kSize, kSize);
  for (auto& v : g.a.bits) v = draw(*in.a);
  for (auto& v : g.b.bits) v = draw(*in.b);
  for (auto& v : g.c.bits) v = draw(*in.c);
  g.metadata.resize(static_cast<std::size_t>(kSize) * static_cast<std::size_t>(kSize / in.chunk_width()));
  for (auto& v : g.metadata) v = twofour::sim::random_nibble(in, rng);
  return g;
}

// The simulator and Eigen run alternately, `reps` times each, and the medians are compared, so
// that a change in the machine's load during the run (it is shared) affects both sides alike.
void run_gemm_benchmark(benchmark::State& state, const Instruction& in, Arch arch, int threads,
                        twofour::sim::KernelIsa isa, int reps) {
  const twofour::sim::GemmOperands g = gemm_operands(in);
  twofour::sim::GemmOptions options;
  options.threads = threads;
  options.isa = isa;
  EigenPeer eigen(threads);
  std::vector<double> sim_rates, eigen_rates;
  std::size_t fallbacks = 0;
  for (auto _ : state) {
    for (int rep = 0; rep < reps; ++rep) {
      eigen_rates.push_back(eigen.run());
      const auto t0 = std::chrono::steady_clock::now();
      auto r = twofour::sim::run_gemm(in, arch, g, options);
      benchmark::DoNotOptimize(r.d.bits.data());
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      sim_rates.push_back(static_cast<double>(kSize) * kSize * kSize / s);
      fallbacks += r.generic_fallbacks;
    }
  }
  const double rate = median(sim_rates), peer = median(eigen_rates);
  state.counters["mac_per_s"] = rate;
  state.counters["eigen_mac_per_s"] = peer;
  state.counters["ratio_vs_eigen"] = rate / peer;
  state.counters["fallback_frac"] =
      static_cast<double>(fallbacks) / (static_cast<double>(sim_rates.size()) * kSize * kSize * static_cast<double>(kSize / in.k));
}

void BM_WarpMmaSp(benchmark::State& state) {
  const Instruction& in = row("SM80_SP_16x8x32_F32F16F16F32_TN");
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

void register_gemm_benchmarks() {
  for (const Datapath& d : kDatapaths) {
    const Instruction& in = row(d.row);
    for (const int threads : {1, 2}) {
      benchmark::RegisterBenchmark(("BM_GemmSim1024/" + std::string(d.label) + "/" + std::to_string(threads)).c_str(),
                                   [&in, d, threads](benchmark::State& s) {
                                     run_gemm_benchmark(s, in, d.arch, threads, twofour::sim::KernelIsa::automatic, 3);
                                   })
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1)
          ->UseRealTime();
    }
  }
  const Instruction& f16 = row("SM80_SP_16x8x32_F32F16F16F32_TN");
  for (const twofour::sim::KernelIsa isa : twofour::sim::supported_kernel_isas()) {
    benchmark::RegisterBenchmark(("BM_GemmSimIsa1024/" + std::string(twofour::sim::kernel_isa_name(isa)) + "/1").c_str(),
                                 [&f16, isa](benchmark::State& s) {
                                   run_gemm_benchmark(s, f16, Arch::sm80, 1, isa, isa == twofour::sim::KernelIsa::scalar ? 1 : 3);
                                 })
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1)
        ->UseRealTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_gemm_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
