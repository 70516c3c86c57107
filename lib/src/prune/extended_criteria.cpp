#include "twofour/prune/extended_criteria.hpp"

#include "twofour/prune/criterion.hpp"
#include "twofour/prune/random_criterion.hpp"
#include "twofour/prune/taylor.hpp"
#include "twofour/prune/wanda.hpp"

#include <stdexcept>

namespace twofour::prune {

void register_extended_criteria() {
  register_criterion({"random", "uniform random scores from --seed (mt19937_64): the chance baseline",
                      [](std::span<const float> w, const sparse::GroupedShape&, const CriterionInputs& in) {
                        return random_scores(w.size(), in.seed);
                      }});
  register_criterion({"wanda", "|W_ij| * ||X_j||_2 over calibration activations (Sun et al. 2023); needs --calib",
                      [](std::span<const float> w, const sparse::GroupedShape& shape, const CriterionInputs& in) {
                        if (in.input_norms.empty())
                          throw std::invalid_argument("criterion wanda needs calibration activations (samples, in)");
                        return wanda_scores(w, shape, in.input_norms);
                      }});
  register_criterion({"taylor", "|W * dL/dW| from accumulated gradients (first-order Taylor); needs --grad",
                      [](std::span<const float> w, const sparse::GroupedShape&, const CriterionInputs& in) {
                        if (in.gradients.empty())
                          throw std::invalid_argument("criterion taylor needs the accumulated gradient of the weight");
                        return taylor_scores(w, in.gradients);
                      }});
  register_criterion({"sparsegpt",
                      "OBS selection by w^2/[H^-1]_cc^2 plus weight updates (Frantar & Alistarh 2023); needs --calib",
                      [](std::span<const float>, const sparse::GroupedShape&, const CriterionInputs&) -> std::vector<float> {
                        throw std::invalid_argument(
                            "criterion sparsegpt updates the kept weights and needs calibration activations: use "
                            "twofour::prune::sparsegpt_prune (the tool: --criterion sparsegpt --calib X.npy)");
                      }});
}

}  // namespace twofour::prune
