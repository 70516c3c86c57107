#include "study/masks.hpp"

#include "study/layer_data.hpp"
#include "twofour/prune/baselines.hpp"
#include "twofour/prune/permutation.hpp"
#include "twofour/prune/random_criterion.hpp"
#include "twofour/prune/sparsegpt.hpp"
#include "twofour/prune/taylor.hpp"
#include "twofour/prune/wanda.hpp"

#include <algorithm>
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

sparse::Mask mask_of_nonzeros(std::span<const float> values) {
  sparse::Mask out;
  out.reserve(values.size());
  for (float v : values) out.push_back(v != 0.0f ? 1 : 0);
  return out;
}

// Magnitude N:M after a permutation search (Pool & Yu 2021), in the original channel order.
sparse::Mask permuted_magnitude_mask(std::span<const float> w, std::span<const std::size_t> shape,
                                     sparse::NMPattern pattern, std::uint64_t seed, double seconds) {
  const sparse::GroupedShape g(shape);
  prune::PermutationOptions po;
  po.pattern = pattern;
  po.seed = seed;
  po.time_limit_seconds = seconds;
  const auto search = prune::search_permutation(w, g, po);
  const auto permuted = prune::permute_input_channels(w, shape, search.permutation);
  return unpermute_mask(sparse::nm_magnitude_mask(permuted, g, pattern), shape, search.permutation);
}

}  // namespace

sparse::Mask unpermute_mask(const sparse::Mask& permuted, std::span<const std::size_t> shape,
                            std::span<const std::int64_t> perm) {
  const std::vector<float> mf(permuted.begin(), permuted.end());
  return mask_of_nonzeros(prune::permute_input_channels(mf, shape, prune::invert_permutation(perm)));
}

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

const std::vector<std::string>& criterion_names_for_study() {
  static const std::vector<std::string> names = {"magnitude", "random", "wanda", "sparsegpt", "taylor", "magnitude+permutation"};
  return names;
}

void apply_criterion(nn::Model& model, const std::string& criterion, const nn::Dataset& calibration, std::uint64_t seed,
                     sparse::NMPattern pattern, double permute_seconds) {
  const auto& names = criterion_names_for_study();
  if (std::find(names.begin(), names.end(), criterion) == names.end())
    throw std::invalid_argument("unknown criterion '" + criterion + "'");
  const auto targets = target_layers(model);
  // Taylor scores use the dense model's gradients for every layer at once.
  std::vector<std::vector<float>> grads;
  if (criterion == "taylor") grads = mean_gradients(model, calibration);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const TargetLayer& t = targets[i];
    nn::Parameter& p = *t.weight;
    const auto& shape = p.value.shape;
    const sparse::GroupedShape g(shape);
    if (criterion == "magnitude") {
      set_mask(p, sparse::nm_magnitude_mask(p.value.data, g, pattern));
    } else if (criterion == "random") {
      set_mask(p, sparse::nm_mask(prune::random_scores(p.value.numel(), seed * 1000003 + i), g, pattern));
    } else if (criterion == "taylor") {
      set_mask(p, sparse::nm_mask(prune::taylor_scores(p.value.data, grads[i]), g, pattern));
    } else if (criterion == "magnitude+permutation") {
      set_mask(p, permuted_magnitude_mask(p.value.data, shape, pattern, seed, permute_seconds));
    } else {
      // Data-aware: the inputs this layer sees with the earlier layers already pruned.
      const nn::Tensor input = layer_input(model, t, calibration);
      if (criterion == "wanda") {
        set_mask(p, sparse::nm_mask(prune::wanda_scores(p.value.data, g, channel_norms(input)), g, pattern));
      } else {  // sparsegpt, on the GEMM view (K, R*S*C) so that groups are consecutive columns
        std::size_t samples = 0, features = 0;
        const auto rows = gemm_rows(t, input, samples, features);
        const auto w = to_krsc(p.value.data, shape);
        const std::vector<std::size_t> view = {g.out(), features};
        prune::SparseGPTOptions so;
        so.pattern = pattern;
        auto r = prune::sparsegpt_prune(w, view, prune::Activations{rows, samples, features}, so);
        p.value.data = from_krsc(r.weights, shape);
        const std::vector<float> mf(r.mask.begin(), r.mask.end());
        set_mask(p, mask_of_nonzeros(from_krsc(mf, shape)));
      }
    }
  }
}

double target_sparsity(nn::Model& model) {
  std::size_t zeros = 0, total = 0;
  for (auto* p : model.pruned_parameters()) {
    for (float w : p->value.data) zeros += w == 0.0f;
    total += p->value.numel();
  }
  return total ? static_cast<double>(zeros) / static_cast<double>(total) : 0.0;
}

}  // namespace twofour::experiments
