#pragma once
// Input-channel permutations for N:M sparsity (Pool & Yu, "Channel Permutations for N:M Sparsity",
// NeurIPS 2021; Apex ASP `permutation_search_kernels`): a stripe-group search with bounded
// regressions for narrow layers, a channel-swap search for wide ones, both under a wall-clock
// bound, the efficacy measure, and how to apply a permutation without changing the network
// function: docs/pruning-methods.md §Channel permutations.
//
// Convention: `perm[j]` is the ORIGINAL index of the channel placed at position j
// (permuted[:, j] = original[:, perm[j]]), as numpy's `w[:, perm]`.
#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/sparse/mask.hpp"
#include "twofour/sparse/pattern.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofour::prune {

// stripe_groups: exhaustive re-partitions of every group of g stripes; its first pass costs
// C(S, g) * C(gM, M) * rows (S stripes), so it suits narrow layers.
// channel_swaps: blocks of channels scored against every channel of another stripe, O(rows) per
// swap (vectorised, multi-threaded), the best swaps applied after an exact re-check until no swap
// helps, then bounded regressions; for wide layers.
// automatic: stripe groups while their first pass is small (see permutation.cpp), else swaps;
// on mid-size layers the swaps' first local optimum is then refined by stripe groups.
enum class PermutationMethod : std::uint8_t { automatic, stripe_groups, channel_swaps };
std::string_view permutation_method_name(PermutationMethod method);
// "auto", "stripe-groups", "channel-swaps"; throws std::invalid_argument otherwise.
PermutationMethod parse_permutation_method(std::string_view name);

struct PermutationOptions {
  sparse::NMPattern pattern{2, 4};
  PermutationMethod method = PermutationMethod::automatic;
  std::size_t stripes_per_group = 2;  // stripe groups: g, 2 or 3; g * M <= 16. For 2:4, g = 3 means C(S,3) groups
                                      // of 5775 re-partitions (495 distinct stripes) instead of
                                      // C(S,2) groups of 35 (70). 64x128: g = 3 ~50-54% in ~5 s,
                                      // g = 2 ~48% in ~0.05 s (both without escapes)
  std::size_t escape_attempts = 100;  // bounded regressions at local optima
  double time_limit_seconds = 10.0;   // wall-clock bound on the whole search
  std::uint64_t seed = 0;             // picks the groups / channels of the bounded regressions
  int threads = 0;                    // channel swaps: OpenMP threads, 0 = omp_get_max_threads()
  gemm::Isa isa = gemm::Isa::automatic;  // channel swaps: SIMD path (tests force one)
};

// One point of the efficacy-against-time curve: the best permutation found `seconds` after the
// call started had this efficacy.
struct PermutationProgress {
  double seconds = 0;
  double efficacy = 0;
};

struct PermutationResult {
  std::vector<std::int64_t> permutation;  // see the convention above; identity when nothing helps
  double total_l1 = 0;       // sum |w|
  double kept_default = 0;   // N:M-kept magnitude in the original order
  double kept_permuted = 0;  // ... after the permutation
  double kept_bound = 0;     // per-row unstructured at density N/M
  // (kept_permuted - kept_default) / (kept_bound - kept_default): the share of the gap between N:M
  // in the original order and per-row unstructured pruning that the permutation closes; 1 when
  // the default already equals the bound.
  double efficacy = 0;
  double seconds = 0;
  bool timed_out = false;
  std::size_t improvements = 0;  // greedy re-partitions or channel swaps applied
  std::size_t escapes = 0;       // bounded regressions taken
  PermutationMethod method = PermutationMethod::stripe_groups;  // the one that ran
  bool refined_by_stripe_groups = false;  // automatic: stripe groups continued from the swaps' optimum
  // Efficacy against time (seconds non-decreasing, efficacy strictly increasing): the first point
  // is the start of the search proper (efficacy 0), the last, when the search improved anything,
  // is the result's efficacy (at most `seconds`). Points are at least 1 ms and about 5% of the
  // elapsed time apart.
  std::vector<PermutationProgress> progress;
};

// Searches a permutation of the input channels (the grouped axis of the ASP view; a convolution's
// C, shared by every kernel position) raising the N:M-kept |w|. Throws std::invalid_argument when
// C % M != 0, stripes_per_group is not 2 or 3, time_limit_seconds < 0 or NaN, threads < 0, or a
// weight is not finite; std::runtime_error when `isa` names a path this CPU lacks. Deterministic
// for given weights, options and CPU; channel swaps give the same result at every thread count
// and SIMD path, bounded only by the time limit. With fewer stripes than a group, the group is all
// stripes; one stripe gives the identity.
PermutationResult search_permutation(std::span<const float> weights, const sparse::GroupedShape& shape,
                                     const PermutationOptions& options = {});

// The efficacy the search had reached `seconds` after it started (0 before its first point).
double efficacy_at(const PermutationResult& result, double seconds);
// "efficacy against time: 0.1 s 0.0%, 0.3 s 1.2%, 1 s 4.9%, ..., 30.1 s 17.4% (final)": the
// curve read at 0.1, 0.3, 1, 3, 10, 30... seconds up to the result's time, then the result.
std::string progress_summary(const PermutationResult& result);

// The N:M-kept sum |w| with the columns in `perm` order (identity when perm is empty).
double nm_kept_magnitude(std::span<const float> weights, const sparse::GroupedShape& shape,
                         sparse::NMPattern pattern, std::span<const std::int64_t> perm = {});
// Per-row unstructured pruning at density N/M: the bound of the efficacy metric.
double per_row_bound_magnitude(std::span<const float> weights, const sparse::GroupedShape& shape,
                               sparse::NMPattern pattern);

// Throws std::invalid_argument unless perm is a permutation of 0..n-1.
void validate_permutation(std::span<const std::int64_t> perm, std::size_t n);
// The consumer: permuted[.., j, ..] = w[.., perm[j], ..] along dimension 1 (input channels).
std::vector<float> permute_input_channels(std::span<const float> weights, std::span<const std::size_t> shape,
                                          std::span<const std::int64_t> perm);
// The producer: permuted[j, ...] = w[perm[j], ...] along dimension 0 (output channels); works for
// any rank >= 1, so it also permutes a bias or a batch-norm vector.
std::vector<float> permute_output_channels(std::span<const float> weights, std::span<const std::size_t> shape,
                                           std::span<const std::int64_t> perm);
// A per-channel vector (bias, running mean...): v[perm[j]].
std::vector<float> permute_vector(std::span<const float> values, std::span<const std::int64_t> perm);
// The inverse permutation: inverse[perm[j]] = j.
std::vector<std::int64_t> invert_permutation(std::span<const std::int64_t> perm);
// A mask built in permuted input-channel order mapped back to the original order: permuting the
// producer layer's outputs the same way makes the layer N:M without changing the network, so a
// mask in the original order with this pattern is equivalent.
sparse::Mask unpermute_mask(const sparse::Mask& permuted, std::span<const std::size_t> shape,
                            std::span<const std::int64_t> perm);

}  // namespace twofour::prune
