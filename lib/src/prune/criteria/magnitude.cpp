// |w|: keep the largest weights of each group (NVIDIA Apex ASP, m4n2_1d; the whitepaper's recipe).
#include "twofour/prune/criterion.hpp"

#include <cmath>

namespace twofour::prune::builtin {

const Criterion& magnitude() {
  static const Criterion c = score_criterion(
      "magnitude", "|w| (Apex ASP m4n2_1d / mn_1d_best): keep the largest weights of each group", 0, Needs::weights_only,
      [](std::span<const float> w, const sparse::GroupedShape&, const CriterionInputs&) {
        std::vector<float> s(w.size());
        for (std::size_t i = 0; i < w.size(); ++i) s[i] = std::fabs(w[i]);
        return s;
      });
  return c;
}

}  // namespace twofour::prune::builtin
