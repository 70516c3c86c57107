// First-order Taylor: |W * dL/dW| from accumulated gradients (taylor.hpp).
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/taylor.hpp"

#include <stdexcept>

namespace twofour::prune::builtin {

const Criterion& taylor() {
  static const Criterion criterion = [] {
    Criterion c;
    c.name = "taylor";
    c.summary = "|W * dL/dW| from accumulated gradients (first-order Taylor); needs --grad";
    c.needs.gradients = true;
    c.listing_order = 4;
    c.score = [](std::span<const float> w, const sparse::GroupedShape&, const CriterionInputs& in) {
      if (in.gradients.empty()) throw std::invalid_argument("criterion taylor needs the accumulated gradient of the weight");
      return taylor_scores(w, in.gradients);
    };
    return c;
  }();
  return criterion;
}

}  // namespace twofour::prune::builtin
