#include "twofour/prune/taylor.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace twofour::prune {
namespace {

void check_gradient(std::span<const float> g, std::size_t expected) {
  if (g.size() != expected)
    throw std::invalid_argument("taylor: gradient has " + std::to_string(g.size()) + " elements, the weight " +
                                std::to_string(expected));
  for (std::size_t i = 0; i < g.size(); ++i)
    if (!std::isfinite(g[i]))
      throw std::invalid_argument("taylor: gradient element " + std::to_string(i) + " is not finite");
}

}  // namespace

GradientAccumulator::GradientAccumulator(std::size_t numel) : sum_(numel, 0.0) {}

void GradientAccumulator::add(std::span<const float> gradient) {
  check_gradient(gradient, sum_.size());
  for (std::size_t i = 0; i < sum_.size(); ++i) sum_[i] += static_cast<double>(gradient[i]);
  ++batches_;
}

std::vector<float> GradientAccumulator::mean() const {
  if (batches_ == 0) throw std::logic_error("GradientAccumulator::mean: no gradient was added");
  std::vector<float> m(sum_.size());
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<float>(sum_[i] / static_cast<double>(batches_));
  return m;
}

std::vector<float> taylor_scores(std::span<const float> weights, std::span<const float> gradients) {
  check_gradient(gradients, weights.size());
  std::vector<float> s(weights.size());
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = std::fabs(weights[i] * gradients[i]);
  return s;
}

}  // namespace twofour::prune
