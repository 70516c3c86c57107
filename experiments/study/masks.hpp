#pragma once
// The masks the studies compare, applied to every 2:4 target of a model:
//   * sparsity patterns (study 3): unstructured, N:M, transposable 2:4, 1x4 / 4x4 blocks and
//     output-channel (filter) pruning, all by weight magnitude from lib's mask builders;
//   * pruning criteria (study 2) at N:M: magnitude, random, Wanda, SparseGPT, Taylor, and
//     magnitude after a channel permutation.
// Each function sets `mask` (and zeroes pruned weights) on model.pruned_parameters(), so it can
// serve as an nn::MaskProvider for retraining.
#include "twofour/nn/data.hpp"
#include "twofour/nn/models.hpp"
#include "twofour/sparse/mask.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace twofour::experiments {

struct PatternSpec {
  std::string family;  // "unstructured", "n:m", "transposable", "block", "channel"
  std::string label;   // "2:4", "1x4 block", "unstructured"...: unique within a sparsity
  double sparsity = 0.5;
  sparse::NMPattern nm{2, 4};                 // n:m, transposable (2:4)
  std::size_t block_rows = 1, block_cols = 4; // block
  sparse::TransposableMethod method = sparse::TransposableMethod::best;
};

// The magnitude mask of one weight tensor under `spec`. N:M with a channel count M does not
// divide uses zero padding (the last group keeps min(N, its size)).
sparse::Mask pattern_mask(const PatternSpec& spec, std::span<const float> weights, std::span<const std::size_t> shape);

// Masks every target with `spec` and zeroes the pruned weights.
void apply_pattern(nn::Model& model, const PatternSpec& spec);

// The criteria of study 2, in report order.
const std::vector<std::string>& criterion_names_for_study();

// Prunes every target to `pattern` with `criterion` (one of criterion_names_for_study()), using
// `calibration` images for data-aware ones. Layers are pruned in order, each seeing the inputs of
// the already-pruned earlier layers (as SparseGPT's and Wanda's reference code do). SparseGPT
// also updates the kept weights (convolutions via their im2col view). Throws
// std::invalid_argument for an unknown criterion.
void apply_criterion(nn::Model& model, const std::string& criterion, const nn::Dataset& calibration,
                     std::uint64_t seed, sparse::NMPattern pattern = {2, 4}, double permute_seconds = 5.0);

// A mask built in permuted channel order (perm as in prune/permutation.hpp) mapped back to the
// original order: permuting the producer layer's outputs the same way makes the layer N:M without
// changing the network, so training in the original order with this mask is equivalent.
sparse::Mask unpermute_mask(const sparse::Mask& permuted, std::span<const std::size_t> shape,
                            std::span<const std::int64_t> perm);

// Fraction of the targets' weights that are zero, over all targets.
double target_sparsity(nn::Model& model);

}  // namespace twofour::experiments
