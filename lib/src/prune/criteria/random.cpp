// Uniform random scores: the chance baseline every criterion must beat (random_criterion.hpp).
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/random_criterion.hpp"

namespace twofour::prune::builtin {

const Criterion& random() {
  static const Criterion c = score_criterion(
      "random", "uniform random scores from --seed (mt19937_64): the chance baseline", 1, Needs::seed,
      [](std::span<const float> w, const sparse::GroupedShape&, const CriterionInputs& in) {
        return random_scores(w.size(), in.seed);
      });
  return c;
}

}  // namespace twofour::prune::builtin
