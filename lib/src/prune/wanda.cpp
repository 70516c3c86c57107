#include "twofour/prune/wanda.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace twofour::prune {

std::vector<float> activation_norms(const Activations& x) {
  validate_activations(x, x.features, "calibration activations");
  std::vector<double> sq(x.features, 0.0);
  for (std::size_t s = 0; s < x.samples; ++s) {
    const float* row = x.values.data() + s * x.features;
    for (std::size_t j = 0; j < x.features; ++j) sq[j] += static_cast<double>(row[j]) * static_cast<double>(row[j]);
  }
  std::vector<float> norms(x.features);
  for (std::size_t j = 0; j < x.features; ++j) norms[j] = static_cast<float>(std::sqrt(sq[j]));
  return norms;
}

std::vector<float> wanda_scores(std::span<const float> weights, const sparse::GroupedShape& shape,
                                std::span<const float> input_norms) {
  if (weights.size() != shape.numel())
    throw std::invalid_argument("wanda: weights have " + std::to_string(weights.size()) + " elements, shape " +
                                sparse::shape_string(shape.shape()) + " needs " + std::to_string(shape.numel()));
  if (input_norms.size() != shape.in())
    throw std::invalid_argument("wanda: " + std::to_string(input_norms.size()) +
                                " activation norms for a weight with " + std::to_string(shape.in()) +
                                " input channels (shape " + sparse::shape_string(shape.shape()) + ")");
  for (std::size_t j = 0; j < input_norms.size(); ++j)
    if (!std::isfinite(input_norms[j]) || input_norms[j] < 0.0f)
      throw std::invalid_argument("wanda: activation norm of input channel " + std::to_string(j) +
                                  " is not a finite non-negative number");
  // C order (K, C, spatial...): the input channel of flat index i is (i / spatial) % C.
  std::vector<float> s(weights.size());
  const std::size_t spatial = shape.spatial(), in = shape.in();
  for (std::size_t i = 0; i < weights.size(); ++i) s[i] = std::fabs(weights[i]) * input_norms[(i / spatial) % in];
  return s;
}

}  // namespace twofour::prune
