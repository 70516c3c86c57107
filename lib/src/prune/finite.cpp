#include "twofour/prune/finite.hpp"

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace twofour::prune {

namespace {

// C-order element index -> "(i, j, ...)" in `shape` (flat "(i)" when the shape does not match).
std::string index_string(std::size_t flat, std::span<const std::size_t> shape, std::size_t numel) {
  std::size_t product = 1;
  for (std::size_t d : shape) product *= d;
  std::vector<std::size_t> index;
  if (shape.empty() || product != numel) {
    index.push_back(flat);
  } else {
    index.resize(shape.size());
    for (std::size_t d = shape.size(); d-- > 0;) {
      index[d] = flat % shape[d];
      flat /= shape[d];
    }
  }
  std::string s = "(";
  for (std::size_t d = 0; d < index.size(); ++d) s += (d ? ", " : "") + std::to_string(index[d]);
  return s + (index.size() == 1 ? ",)" : ")");
}

}  // namespace

void require_finite_weights(std::span<const float> weights, std::span<const std::size_t> shape) {
  std::size_t nans = 0, infs = 0, first = weights.size();
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (std::isfinite(weights[i])) continue;
    (std::isnan(weights[i]) ? nans : infs) += 1;
    if (first == weights.size()) first = i;
  }
  if (first == weights.size()) return;
  const float v = weights[first];
  throw std::invalid_argument("weight " + index_string(first, shape, weights.size()) + " is " +
                              (std::isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf") + " (" + std::to_string(nans) + " NaN and " +
                              std::to_string(infs) + " infinite of " + std::to_string(weights.size()) +
                              " weights); pruning needs finite weights: repair or drop them first");
}

}  // namespace twofour::prune
