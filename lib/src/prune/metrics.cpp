#include "twofour/prune/metrics.hpp"

#include <Eigen/Dense>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace twofour::prune {

void validate_activations(const Activations& x, std::size_t expected_features, std::string_view what) {
  const std::string name(what);
  if (x.samples == 0 || x.features == 0)
    throw std::invalid_argument(name + ": no data (" + std::to_string(x.samples) + " samples of " +
                                std::to_string(x.features) + " features)");
  if (x.values.size() / x.samples != x.features || x.values.size() % x.samples != 0)
    throw std::invalid_argument(name + ": " + std::to_string(x.values.size()) + " values do not form (" +
                                std::to_string(x.samples) + ", " + std::to_string(x.features) + ")");
  if (x.features != expected_features)
    throw std::invalid_argument(name + " have " + std::to_string(x.features) +
                                " features (columns of (samples, in)) but the weight has " +
                                std::to_string(expected_features) + " input channels");
  for (std::size_t i = 0; i < x.values.size(); ++i)
    if (!std::isfinite(x.values[i]))
      throw std::invalid_argument(name + ": " + (std::isnan(x.values[i]) ? "NaN" : "infinity") + " at sample " +
                                  std::to_string(i / x.features) + ", feature " + std::to_string(i % x.features));
}

Activations sample_range(const Activations& x, std::size_t first, std::size_t count) {
  if (first > x.samples || count > x.samples - first)
    throw std::invalid_argument("samples " + std::to_string(first) + ".." + std::to_string(first + count) +
                                " are outside the " + std::to_string(x.samples) + " available");
  return {x.values.subspan(first * x.features, count * x.features), count, x.features};
}

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

RowMatrix to_matrix(std::span<const float> v, std::size_t rows, std::size_t cols) {
  RowMatrix m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (std::size_t i = 0; i < rows * cols; ++i) m.data()[i] = static_cast<double>(v[i]);
  return m;
}

void check_linear(std::span<const std::size_t> shape, std::size_t a, std::size_t b) {
  if (shape.size() != 2)
    throw std::invalid_argument("reconstruction error is defined for Linear weights (out, in); got rank " +
                                std::to_string(shape.size()) + " shape " + sparse::shape_string(shape));
  if (a != shape[0] * shape[1] || b != a)
    throw std::invalid_argument("weights / pruned weights have " + std::to_string(a) + " / " + std::to_string(b) +
                                " elements, shape " + sparse::shape_string(shape) + " needs " +
                                std::to_string(shape[0] * shape[1]));
}

}  // namespace

double reconstruction_error(std::span<const float> weights, std::span<const float> pruned,
                            std::span<const std::size_t> shape, const Activations& x) {
  check_linear(shape, weights.size(), pruned.size());
  validate_activations(x, shape[1], "held-out activations");
  const RowMatrix w = to_matrix(weights, shape[0], shape[1]);
  const RowMatrix d = w - to_matrix(pruned, shape[0], shape[1]);
  const RowMatrix xs = to_matrix(x.values, x.samples, x.features);
  const double ref = (xs * w.transpose()).norm();
  const double err = (xs * d.transpose()).norm();
  if (ref == 0.0) return err == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return err / ref;
}

PruneMetrics evaluate_pruning(std::span<const float> weights, std::span<const float> pruned,
                              std::span<const std::uint8_t> mask, std::span<const std::size_t> shape,
                              const Activations* heldout) {
  if (mask.size() != weights.size())
    throw std::invalid_argument("mask has " + std::to_string(mask.size()) + " elements, weights " +
                                std::to_string(weights.size()));
  PruneMetrics m;
  m.kept_l1 = sparse::kept_l1_fraction(weights, mask);
  if (heldout != nullptr) m.reconstruction_error = reconstruction_error(weights, pruned, shape, *heldout);
  return m;
}

}  // namespace twofour::prune
