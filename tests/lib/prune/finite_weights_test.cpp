// The NaN/Inf policy (twofour/prune/finite.hpp): every registered criterion, SparseGPT and the
// permutation search reject a non-finite weight, naming its index and the counts, instead of
// ranking it (before this policy a NaN was silently kept as if it were +infinity).
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/finite.hpp"
#include "twofour/prune/permutation.hpp"
#include "twofour/prune/sparsegpt.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace twofour::prune {
namespace {

const std::vector<std::size_t> kShape = {4, 8};

std::vector<float> ramp() {
  std::vector<float> w(32);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.1f * static_cast<float>(i + 1) * (i % 3 == 0 ? -1.0f : 1.0f);
  return w;
}

// The message of the std::invalid_argument `f` throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(FiniteWeights, EveryCriterionRejectsNaNAndInfinityWithTheLocation) {
  const std::vector<float> norms(8, 1.0f), grads(32, 0.5f);
  CriterionInputs inputs;
  inputs.input_norms = norms;
  inputs.gradients = grads;
  const float inf = std::numeric_limits<float>::infinity();
  ASSERT_GE(criteria().size(), 4u);
  for (const auto& criterion : criteria()) {
    PruneSpec spec;
    spec.criterion = criterion.name;
    if (criterion.name != "sparsegpt") {  // its registry entry only points at sparsegpt_prune (below)
      EXPECT_NO_THROW(prune_nm(ramp(), kShape, spec, inputs)) << criterion.name;
    }
    for (const bool transposable : {false, true}) {
      spec.transposable = transposable;
      auto w = ramp();
      w[1 * 8 + 5] = std::nanf("");
      w[3 * 8 + 0] = -inf;
      w[3 * 8 + 1] = inf;
      const std::string message = error_of([&] { prune_nm(w, kShape, spec, inputs); });
      EXPECT_NE(message.find("weight (1, 5) is NaN (1 NaN and 2 infinite of 32 weights)"), std::string::npos)
          << criterion.name << ": " << message;
      w[1 * 8 + 5] = 0.0f;
      EXPECT_NE(error_of([&] { prune_nm(w, kShape, spec, inputs); }).find("weight (3, 0) is -inf"), std::string::npos)
          << criterion.name;
    }
  }
}

TEST(FiniteWeights, SparseGPTAndPermutationFollowTheSamePolicy) {
  auto w = ramp();
  w[2 * 8 + 7] = std::numeric_limits<float>::infinity();
  const std::vector<float> calib(16 * 8, 1.0f);
  EXPECT_NE(error_of([&] { sparsegpt_prune(w, kShape, {calib, 16, 8}); }).find("weight (2, 7) is +inf"), std::string::npos);
  EXPECT_NE(error_of([&] { search_permutation(w, sparse::GroupedShape(kShape)); }).find("weight (2, 7) is +inf"),
            std::string::npos);
}

TEST(FiniteWeights, ConvolutionIndexUsesEveryDimension) {
  std::vector<float> w(2 * 4 * 3, 1.0f);
  w[1 * 12 + 2 * 3 + 1] = std::nanf("");
  const std::vector<std::size_t> conv = {2, 4, 3};
  EXPECT_NE(error_of([&] { require_finite_weights(w, conv); }).find("weight (1, 2, 1) is NaN"), std::string::npos);
  EXPECT_NO_THROW(require_finite_weights(std::vector<float>(4, -0.0f), conv));
}

}  // namespace
}  // namespace twofour::prune
