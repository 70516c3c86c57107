// Wanda (Sun et al. 2023): |W_ij| * ||X_j||_2 over calibration activations (wanda.hpp).
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/wanda.hpp"

#include <stdexcept>

namespace twofour::prune::builtin {
namespace {

std::vector<float> weighted_by_norms(std::span<const float> w, const sparse::GroupedShape& shape, const CriterionInputs& in) {
  if (!in.input_norms.empty()) return wanda_scores(w, shape, in.input_norms);
  if (in.calibration.samples == 0) throw std::invalid_argument("criterion wanda needs calibration activations (samples, in)");
  return wanda_scores(w, shape, activation_norms(in.calibration));  // a Linear's (samples, in) rows alone
}

}  // namespace

const Criterion& wanda() {
  static const Criterion c = score_criterion(
      "wanda", "|W_ij| * ||X_j||_2 over calibration activations (Sun et al. 2023); needs --calib", 2, Needs::calibration,
      weighted_by_norms);
  return c;
}

}  // namespace twofour::prune::builtin
