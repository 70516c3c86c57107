#pragma once
// The sparsity patterns study 3 compares, applied to every 2:4 target of a model: unstructured,
// N:M, transposable 2:4, 1x4 / 4x4 blocks and output-channel (filter) pruning, all by weight
// magnitude from lib's mask builders. (Criteria, study 2, come from lib: prune/model_prune.hpp.)
// apply_pattern sets `mask` (and zeroes pruned weights) on model.pruned_parameters(), so it can
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

}  // namespace twofour::experiments
