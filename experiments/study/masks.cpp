#include "study/masks.hpp"

#include "twofour/prune/baselines.hpp"

#include <cmath>
#include <stdexcept>

namespace twofour::experiments {
namespace {

std::vector<float> magnitudes(std::span<const float> w) {
  std::vector<float> s(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) s[i] = std::fabs(w[i]);
  return s;
}

void set_mask(nn::Parameter& p, sparse::Mask mask) {
  p.mask = std::move(mask);
  sparse::apply_mask(p.value.data, p.mask);
}

}  // namespace

sparse::Mask pattern_mask(const PatternSpec& spec, std::span<const float> w, std::span<const std::size_t> shape) {
  const sparse::GroupedShape g(shape);
  const auto scores = magnitudes(w);
  if (spec.family == "unstructured") return prune::unstructured_mask(scores, spec.sparsity);
  if (spec.family == "n:m") {
    const auto pad = g.in() % static_cast<std::size_t>(spec.nm.m) == 0 ? sparse::Padding::none : sparse::Padding::zeros;
    return sparse::nm_mask(scores, g, spec.nm, pad);
  }
  if (spec.family == "transposable") return sparse::transposable_24_mask(scores, g, spec.method);
  if (spec.family == "block") return prune::block_mask(scores, g, spec.block_rows, spec.block_cols, spec.sparsity);
  if (spec.family == "channel") return prune::channel_mask(scores, g, prune::ChannelAxis::output, spec.sparsity);
  throw std::invalid_argument("unknown pattern family '" + spec.family + "'");
}

void apply_pattern(nn::Model& model, const PatternSpec& spec) {
  for (auto* p : model.pruned_parameters()) set_mask(*p, pattern_mask(spec, p->value.data, p->value.shape));
}

}  // namespace twofour::experiments
