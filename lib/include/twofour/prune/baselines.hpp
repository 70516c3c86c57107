#pragma once
// Baseline masks for the pattern studies (docs/pruning-methods.md §Baselines): unstructured magnitude
// (per layer, per row, global), block pruning and channel/filter pruning at a given sparsity.
//
// Sparsity s in [0, 1] is the fraction of weights (blocks, channels) pruned; the pruned count is
// round(s * count), halves rounded up. Selection prunes the lowest scores first; ties are broken
// as in mask.hpp (the later element is pruned first, so the earlier one is kept).
#include "twofour/sparse/mask.hpp"

#include <cstddef>
#include <span>
#include <vector>

namespace twofour::prune {

using sparse::GroupedShape;
using sparse::Mask;

// Keeps the (1 - s) share of highest scores of the whole tensor.
Mask unstructured_mask(std::span<const float> scores, double sparsity);
// Same, separately in each row of the ASP view (the "per-row" bound of Pool & Yu).
Mask per_row_unstructured_mask(std::span<const float> scores, const GroupedShape& shape, double sparsity);
// One threshold across several layers (global magnitude pruning). Returns one mask per layer.
std::vector<Mask> global_unstructured_masks(std::span<const std::span<const float>> layers, double sparsity);

// Blocks of block_rows x block_cols in the ASP view (rows, input channels), scored by the sum of
// their scores; the lowest-scored share s of blocks is pruned. 1x4 = four consecutive input
// channels of one row. Throws std::invalid_argument when the view does not tile.
Mask block_mask(std::span<const float> scores, const GroupedShape& shape, std::size_t block_rows,
                std::size_t block_cols, double sparsity);

// Channel pruning: whole output channels (filters: every weight w[k, ...]) or whole input
// channels (w[:, c, ...]), scored by the sum of their scores (L1 for magnitude).
enum class ChannelAxis { output, input };
Mask channel_mask(std::span<const float> scores, const GroupedShape& shape, ChannelAxis axis, double sparsity);

}  // namespace twofour::prune
