#pragma once
// Shared by the tests of the 2:4 layers: bitwise equality of tensors and the two kinds of 2:4 mask
// they run with.
#include "twofour/nn/tensor.hpp"
#include "twofour/sparse/mask.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

namespace twofour::testing {

inline bool same_bits(const nn::Tensor& a, const nn::Tensor& b) {
  return a.shape == b.shape && std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0;
}

// Magnitude 2:4 mask of `scores` (ASP's; not transposable in general), or a transposable one.
inline std::vector<std::uint8_t> mask_24(const nn::Tensor& scores, bool transposable) {
  const sparse::GroupedShape shape(scores.shape);
  return transposable ? sparse::transposable_24_mask(scores.data, shape, sparse::TransposableMethod::best)
                      : sparse::nm_magnitude_mask(scores.data, shape, sparse::NMPattern{2, 4});
}

}  // namespace twofour::testing
