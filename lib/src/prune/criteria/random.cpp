// Uniform random scores: the chance baseline every criterion must beat (random_criterion.hpp).
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/random_criterion.hpp"

namespace twofour::prune::builtin {

const Criterion& random() {
  static const Criterion criterion = [] {
    Criterion c;
    c.name = "random";
    c.summary = "uniform random scores from --seed (mt19937_64): the chance baseline";
    c.needs.seed = true;
    c.listing_order = 1;
    c.score = [](std::span<const float> w, const sparse::GroupedShape&, const CriterionInputs& in) {
      return random_scores(w.size(), in.seed);
    };
    return c;
  }();
  return criterion;
}

}  // namespace twofour::prune::builtin
