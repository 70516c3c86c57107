// SparseGPT (Frantar & Alistarh 2023, sparsegpt.hpp): OBS selection plus updates of the kept
// weights. A convolution runs on its GEMM view (K, R*S*C) with the calibration rows as im2col
// patches in the same order (nn/conv_gemm.hpp), so groups lie along input channels.
#include "twofour/nn/conv_gemm.hpp"
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/sparsegpt.hpp"

#include <stdexcept>

namespace twofour::prune::builtin {
namespace {

PruneResult run(std::span<const float> w, std::span<const std::size_t> shape, const PruneSpec& spec,
                const CriterionInputs& in) {
  if (spec.transposable) throw std::invalid_argument("criterion sparsegpt makes N:M masks, not transposable ones");
  if (in.calibration.samples == 0)
    throw std::invalid_argument("criterion sparsegpt needs calibration activations (samples, in)");
  SparseGPTOptions options;
  options.pattern = spec.pattern;
  options.block_size = in.block_size;
  options.damping = in.damping;
  PruneResult result;
  if (shape.size() == 4 && in.calibration.features != shape[1]) {
    const sparse::GroupedShape grouped(shape);
    const std::vector<std::size_t> view = {grouped.out(), grouped.numel() / grouped.out()};
    SparseGPTResult r = sparsegpt_prune(nn::to_krsc(w, shape), view, in.calibration, options);
    result.pruned = nn::from_krsc(r.weights, shape);
    const std::vector<float> kept = nn::from_krsc(std::vector<float>(r.mask.begin(), r.mask.end()), shape);
    result.mask.assign(kept.size(), 0);
    for (std::size_t i = 0; i < kept.size(); ++i) result.mask[i] = kept[i] != 0.0f ? 1 : 0;
  } else {
    SparseGPTResult r = sparsegpt_prune(w, shape, in.calibration, options);
    result.mask = std::move(r.mask);
    result.pruned = std::move(r.weights);
  }
  result.kept_l1 = sparse::kept_l1_fraction(w, result.mask);
  return result;
}

}  // namespace

const Criterion& sparsegpt() {
  static const Criterion c = prune_criterion(
      "sparsegpt", "OBS selection by w^2/[H^-1]_cc^2 plus weight updates (Frantar & Alistarh 2023); needs --calib", 3,
      Needs::calibration, /*updates_weights=*/true, run);
  return c;
}

}  // namespace twofour::prune::builtin
