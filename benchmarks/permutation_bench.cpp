// Channel-permutation search (Pool & Yu 2021) on Gaussian layers: efficacy reached against time.
// One search per shape with a 30 s bound; its progress curve gives the efficacy at 1, 5, 10 and
// 30 s, and the seconds it needs to reach Apex ASP's efficacy at 30 s and 120 s (wide layers).
//   twofour_permutation_bench --benchmark_counters_tabular=true
// Threads: OpenMP's default (OMP_NUM_THREADS). Efficacy as in prune/permutation.hpp: the share of
// the gap between the 2:4 mask in the original order and per-row unstructured 50% recovered.
#include "twofour/prune/permutation.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>

namespace {

using namespace twofour;

std::vector<float> gaussian(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> w(n);
  for (auto& v : w) v = dist(rng);
  return w;
}

// Seconds until the search first reached `target` efficacy (-1: not within its bound).
double seconds_to(const prune::PermutationResult& r, double target) {
  for (const auto& p : r.progress)
    if (p.efficacy >= target) return p.seconds;
  return -1;
}

// Apex ASP's channel-swap search on the same kind of layer, measured for this project on the same
// machine class (docs/pruning-methods.md, "Channel swaps for wide layers"): the peer's efficacy at
// 30 s and at 120 s (0: not measured).
struct AspReference {
  std::size_t rows, cols;
  double at_30s, at_120s;
};
constexpr AspReference kAsp[] = {{1024, 4096, 0.032, 0.064}, {256, 11008, 0.087, 0}};

void BM_PermutationSearch(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0)), cols = static_cast<std::size_t>(state.range(1));
  const std::vector<std::size_t> shape = {rows, cols};
  const auto w = gaussian(rows * cols, 1);
  prune::PermutationOptions opt;
  opt.time_limit_seconds = static_cast<double>(state.range(2));
  prune::PermutationResult r;
  for (auto _ : state) r = prune::search_permutation(w, sparse::GroupedShape(shape), opt);
  state.SetLabel(std::string(prune::permutation_method_name(r.method)) + (r.timed_out ? ", time bound" : ", converged"));
  state.counters["efficacy_%"] = 100 * r.efficacy;
  state.counters["at_1s_%"] = 100 * prune::efficacy_at(r, 1);
  state.counters["at_5s_%"] = 100 * prune::efficacy_at(r, 5);
  state.counters["at_10s_%"] = 100 * prune::efficacy_at(r, 10);
  state.counters["at_30s_%"] = 100 * prune::efficacy_at(r, 30);
  state.counters["search_s"] = r.seconds;
  state.counters["steps"] = static_cast<double>(r.improvements);
  for (const AspReference& asp : kAsp)
    if (asp.rows == rows && asp.cols == cols) {
      // How long this search needs for what ASP reaches in 30 s and in 120 s.
      state.counters["s_to_ASP_30s"] = seconds_to(r, asp.at_30s);
      if (asp.at_120s > 0) state.counters["s_to_ASP_120s"] = seconds_to(r, asp.at_120s);
    }
  std::fprintf(stderr, "%zu x %zu (%s): efficacy against time\n", rows, cols, std::string(prune::permutation_method_name(r.method)).c_str());
  for (const auto& p : r.progress) std::fprintf(stderr, "  %8.3f s  %6.2f%%\n", p.seconds, 100 * p.efficacy);
}

BENCHMARK(BM_PermutationSearch)
    ->Args({64, 128, 30})
    ->Args({1024, 4096, 30})
    ->Args({256, 11008, 30})
    ->ArgNames({"rows", "cols", "bound_s"})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
