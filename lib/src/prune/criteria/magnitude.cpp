// |w|: keep the largest weights of each group (NVIDIA Apex ASP, m4n2_1d; the whitepaper's recipe).
#include "twofour/prune/criterion.hpp"

#include <cmath>

namespace twofour::prune::builtin {
namespace {

std::vector<float> absolute_values(std::span<const float> w, const sparse::GroupedShape&, const CriterionInputs&) {
  std::vector<float> s(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) s[i] = std::fabs(w[i]);
  return s;
}

}  // namespace

const Criterion& magnitude() {
  static const Criterion c = score_criterion(
      "magnitude", "|w| (Apex ASP m4n2_1d / mn_1d_best): keep the largest weights of each group", 0, Needs::weights_only,
      absolute_values);
  return c;
}

}  // namespace twofour::prune::builtin
