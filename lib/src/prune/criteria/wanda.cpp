// Wanda (Sun et al. 2023): |W_ij| * ||X_j||_2 over calibration activations (wanda.hpp).
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/wanda.hpp"

#include <stdexcept>

namespace twofour::prune::builtin {

const Criterion& wanda() {
  static const Criterion criterion = [] {
    Criterion c;
    c.name = "wanda";
    c.summary = "|W_ij| * ||X_j||_2 over calibration activations (Sun et al. 2023); needs --calib";
    c.needs.calibration = true;
    c.listing_order = 2;
    c.score = [](std::span<const float> w, const sparse::GroupedShape& shape, const CriterionInputs& in) {
      if (!in.input_norms.empty()) return wanda_scores(w, shape, in.input_norms);
      if (in.calibration.samples == 0)
        throw std::invalid_argument("criterion wanda needs calibration activations (samples, in)");
      // Activations alone (a Linear's (samples, in)): the norms are computed here.
      return wanda_scores(w, shape, activation_norms(in.calibration));
    };
    return c;
  }();
  return criterion;
}

}  // namespace twofour::prune::builtin
