#pragma once
// The policy for NaN and infinite weights, the same for every criterion, the `twofour prune`
// tool and every binding: they are REJECTED. A NaN has no magnitude to rank, and an infinity
// would be kept by every magnitude-based rule while making SparseGPT's update and every
// reconstruction metric meaningless, so no ranking rule is honest; the error names the first
// offending element (its index in the tensor's shape) and how many there are, so the user can
// repair the checkpoint. Called by prune_nm, sparsegpt_prune and search_permutation.
#include <span>
#include <string>

namespace twofour::prune {

// Throws std::invalid_argument "weight (r, c) is NaN (n NaN and k infinite of N weights); ..."
// when any weight is not finite. `shape` gives the index; empty = flat.
void require_finite_weights(std::span<const float> weights, std::span<const std::size_t> shape);

}  // namespace twofour::prune
