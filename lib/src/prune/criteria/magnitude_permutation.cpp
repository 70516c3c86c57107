// Magnitude N:M after an input-channel permutation search (Pool & Yu 2021, permutation.hpp),
// the mask mapped back to the original channel order: permuting the producer layer's outputs the
// same way makes the layer N:M without changing the network.
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/permutation.hpp"

#include <stdexcept>

namespace twofour::prune::builtin {
namespace {

PruneResult run(std::span<const float> w, std::span<const std::size_t> shape, const PruneSpec& spec,
                const CriterionInputs& in) {
  if (spec.transposable) throw std::invalid_argument("criterion magnitude+permutation makes N:M masks, not transposable ones");
  const sparse::GroupedShape grouped(shape);
  PermutationOptions options;
  options.pattern = spec.pattern;
  options.seed = in.seed;
  options.time_limit_seconds = in.time_limit_seconds;
  const PermutationResult search = search_permutation(w, grouped, options);
  const std::vector<float> permuted = permute_input_channels(w, shape, search.permutation);
  const sparse::Mask permuted_mask = sparse::nm_magnitude_mask(permuted, grouped, spec.pattern, spec.padding);
  PruneResult result;
  result.mask = unpermute_mask(permuted_mask, shape, search.permutation);
  result.pruned.assign(w.begin(), w.end());
  sparse::apply_mask(result.pruned, result.mask);
  result.kept_l1 = sparse::kept_l1_fraction(w, result.mask);
  return result;
}

}  // namespace

const Criterion& magnitude_permutation() {
  static const Criterion c = prune_criterion(
      "magnitude+permutation", "|w| after a channel permutation search (Pool & Yu 2021), mask in the original order; --seed",
      5, Needs::seed, /*updates_weights=*/false, run);
  return c;
}

}  // namespace twofour::prune::builtin
