#pragma once
// Every group that breaks an N:M pattern, not only the first one check_nm (mask.hpp) names: for
// tools that show or repair a tensor group by group (twofour.prune.check in Python).
#include "twofour/sparse/pattern.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace twofour::sparse {

struct NMViolation {
  std::size_t row = 0;       // row of the grouped (ASP) view
  std::size_t col = 0;       // first input channel of the group
  std::size_t nonzeros = 0;  // more than N
};

// The groups holding more than N non-zero flags, in check_nm's scan order (output channel, then
// input-channel group, then kernel position), so the first one is the group check_nm names.
// Throws std::invalid_argument for a bad pattern, a size mismatch, or (Padding::none) C % M != 0.
std::vector<NMViolation> nm_violations(std::span<const std::uint8_t> nonzero, const GroupedShape& shape,
                                       NMPattern pattern, Padding padding = Padding::none);
// Same on weights: non-zero means w != 0, as check_nm (-0.0 is zero, NaN is non-zero).
std::vector<NMViolation> nm_violations(std::span<const float> weights, const GroupedShape& shape, NMPattern pattern,
                                       Padding padding = Padding::none);

}  // namespace twofour::sparse
