#pragma once
// Pruning criteria as a registry: a criterion turns a weight tensor (and, for data-aware
// criteria, extra inputs) into one score per weight; a mask keeps the highest scores under the
// chosen pattern. New criteria (random, Wanda, Taylor, SparseGPT...) are added with
// register_criterion, or to the built-in table, without touching the pattern code or the tool.
#include "twofour/sparse/mask.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofour::prune {

// Inputs a criterion may need beyond the weights. Magnitude needs none.
struct CriterionInputs {
  std::span<const float> input_norms;  // per input channel ||X_j||_2 (Wanda)
  std::span<const float> gradients;    // same shape as the weights (Taylor / SNIP)
  std::uint64_t seed = 0;              // for random baselines
};

struct Criterion {
  std::string name;     // the --criterion value
  std::string summary;  // one line for --help
  // One score per weight, in the weights' C order; higher = more important.
  std::function<std::vector<float>(std::span<const float> weights, const sparse::GroupedShape& shape,
                                   const CriterionInputs& inputs)>
      score;
};

// The registered criteria, built-ins first ("magnitude": |w|).
const std::vector<Criterion>& criteria();
// nullptr when unknown.
const Criterion* find_criterion(std::string_view name);
// Adds (or replaces, by name) a criterion.
void register_criterion(Criterion criterion);
// "magnitude, ..." for error messages and help.
std::string criterion_names();

struct PruneSpec {
  std::string criterion = "magnitude";
  sparse::NMPattern pattern{2, 4};
  bool transposable = false;  // 2:4 only
  sparse::TransposableMethod method = sparse::TransposableMethod::best;
  sparse::Padding padding = sparse::Padding::none;
};

struct PruneResult {
  sparse::Mask mask;           // 1 = kept, the weights' shape and order
  std::vector<float> pruned;   // weights * mask
  double kept_l1 = 1.0;        // kept_l1_fraction(weights, mask)
};

// Scores the weights with spec.criterion and builds the N:M (or transposable 2:4) mask.
// Throws std::invalid_argument for an unknown criterion, a bad pattern or a shape that does not
// divide.
PruneResult prune_nm(std::span<const float> weights, std::span<const std::size_t> shape, const PruneSpec& spec,
                     const CriterionInputs& inputs = {});

}  // namespace twofour::prune
