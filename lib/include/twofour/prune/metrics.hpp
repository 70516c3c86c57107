#pragma once
// Calibration activations and the two measures every criterion is compared on:
//   kept-L1 fraction   sum(|W| * mask) / sum(|W|)   (sparse::kept_l1_fraction, on the ORIGINAL weights)
//   reconstruction     ||W X - W' X||_F / ||W X||_F  on held-out activations, W' = the pruned (and,
//                      for SparseGPT, updated) weights.
// Activations are stored as NumPy / PyTorch hand them out: (samples, in), one row per token or
// sample, C order. "W X" in the formulas is therefore X W^T in memory.
#include "twofour/sparse/mask.hpp"

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace twofour::prune {

struct Activations {
  std::span<const float> values;  // samples * features, C order
  std::size_t samples = 0;
  std::size_t features = 0;       // must equal the layer's input channels
};

// Throws std::invalid_argument naming `what` when values.size() != samples * features, when there
// are no samples, when features != expected_features, or at the first non-finite value
// ("calibration activations: NaN at sample 3, feature 7").
void validate_activations(const Activations& x, std::size_t expected_features, std::string_view what);

// The first `count` samples, or the remaining ones from `first` (a view, no copy).
Activations sample_range(const Activations& x, std::size_t first, std::size_t count);

// ||W X - W' X||_F / ||W X||_F for a Linear weight (rank 2, (out, in)) and activations (samples, in).
// 0 when both norms are 0, +infinity when only W X is 0. Computed in double.
double reconstruction_error(std::span<const float> weights, std::span<const float> pruned,
                            std::span<const std::size_t> shape, const Activations& x);

struct PruneMetrics {
  double kept_l1 = 1.0;                // share of |W| the mask keeps
  double reconstruction_error = -1.0;  // < 0 when no held-out activations were given
};

// Both measures; `heldout` may be null (reconstruction_error stays -1).
PruneMetrics evaluate_pruning(std::span<const float> weights, std::span<const float> pruned,
                              std::span<const std::uint8_t> mask, std::span<const std::size_t> shape,
                              const Activations* heldout);

}  // namespace twofour::prune
