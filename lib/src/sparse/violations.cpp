#include "twofour/sparse/violations.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace twofour::sparse {

std::vector<NMViolation> nm_violations(std::span<const std::uint8_t> nonzero, const GroupedShape& shape,
                                       NMPattern pattern, Padding padding) {
  validate(pattern);
  if (nonzero.size() != shape.numel())
    throw std::invalid_argument("tensor has " + std::to_string(nonzero.size()) + " elements, shape " +
                                shape_string(shape.shape()) + " needs " + std::to_string(shape.numel()));
  const auto m = static_cast<std::size_t>(pattern.m);
  if (padding == Padding::none && shape.in() % m != 0)
    throw std::invalid_argument("shape " + shape_string(shape.shape()) + " has " + std::to_string(shape.in()) +
                                " input channels, not a multiple of M = " + std::to_string(m));
  std::vector<NMViolation> out;
  for (std::size_t k = 0; k < shape.out(); ++k)
    for (std::size_t c0 = 0; c0 < shape.in(); c0 += m)
      for (std::size_t sp = 0; sp < shape.spatial(); ++sp) {
        const std::size_t row = sp * shape.out() + k;
        const std::size_t len = std::min(m, shape.in() - c0);
        std::size_t count = 0;
        for (std::size_t i = 0; i < len; ++i) count += nonzero[shape.offset(row, c0 + i)] != 0;
        if (count > static_cast<std::size_t>(pattern.n)) out.push_back({row, c0, count});
      }
  return out;
}

std::vector<NMViolation> nm_violations(std::span<const float> weights, const GroupedShape& shape, NMPattern pattern,
                                       Padding padding) {
  std::vector<std::uint8_t> nonzero(weights.size());
  std::transform(weights.begin(), weights.end(), nonzero.begin(), [](float w) { return static_cast<std::uint8_t>(w != 0.0f); });
  return nm_violations(nonzero, shape, pattern, padding);
}

}  // namespace twofour::sparse
