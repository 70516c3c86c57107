// First-order Taylor: |W * dL/dW| from accumulated gradients (taylor.hpp).
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/taylor.hpp"

#include <stdexcept>

namespace twofour::prune::builtin {

const Criterion& taylor() {
  static const Criterion c = score_criterion(
      "taylor", "|W * dL/dW| from accumulated gradients (first-order Taylor); needs --grad", 4, Needs::gradients,
      [](std::span<const float> w, const sparse::GroupedShape&, const CriterionInputs& in) {
        if (in.gradients.empty()) throw std::invalid_argument("criterion taylor needs the accumulated gradient of the weight");
        return taylor_scores(w, in.gradients);
      });
  return c;
}

}  // namespace twofour::prune::builtin
