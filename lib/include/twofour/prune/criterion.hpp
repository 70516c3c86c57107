#pragma once
// Pruning criteria as one registry that the tool (`prune`, `train --criterion`), the studies and
// the Python bindings all walk. A criterion declares the data it reads beyond the weights and
// whether it changes the kept weights; most only score each weight and let the shared N:M
// selection build the mask.
//
// Adding a criterion: one file lib/src/prune/criteria/<id>.cpp defining
//   const twofour::prune::Criterion& twofour::prune::builtin::<id>();
// (plus its test). The build generates the table of these functions from the folder's file
// names (lib/CMakeLists.txt), so every criterion is referenced from one object file and survives
// static linking; nothing else is edited. register_criterion adds criteria at run time.
#include "twofour/prune/metrics.hpp"
#include "twofour/sparse/mask.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofour::prune {

// What a criterion reads besides the weights, declared as flags (Needs::calibration | Needs::seed)
// and read as fields. The caller (tool, study, bindings) provides it.
enum class Needs : unsigned { weights_only = 0, calibration = 1, gradients = 2, seed = 4 };
constexpr Needs operator|(Needs a, Needs b) { return static_cast<Needs>(static_cast<unsigned>(a) | static_cast<unsigned>(b)); }

struct CriterionNeeds {
  bool calibration = false;  // activations the layer sees: CriterionInputs::input_norms and ::calibration
  bool gradients = false;    // CriterionInputs::gradients
  bool seed = false;         // CriterionInputs::seed makes the result reproducible
  constexpr CriterionNeeds() = default;
  constexpr CriterionNeeds(Needs n)  // NOLINT(google-explicit-constructor): declarations read as flags
      : calibration((static_cast<unsigned>(n) & 1u) != 0),
        gradients((static_cast<unsigned>(n) & 2u) != 0),
        seed((static_cast<unsigned>(n) & 4u) != 0) {}
};

struct CriterionInputs {
  std::span<const float> input_norms;  // per input channel ||X_j||_2 over the calibration data (Wanda)
  // The layer's GEMM input rows (samples, features): features = in for a Linear (out, in); for a
  // convolution (out, in, spatial...) the im2col patches with the input channel innermost
  // (features = spatial * in), so that N:M groups along input channels are consecutive.
  Activations calibration;
  std::span<const float> gradients;  // the weights' shape (Taylor)
  std::uint64_t seed = 0;            // random choices (random scores, permutation escapes)
  std::size_t block_size = 128;      // SparseGPT column block, a multiple of M
  double damping = 0.01;             // SparseGPT: share of mean(diag H) added to the diagonal
  double time_limit_seconds = 5.0;   // bounded searches (channel permutation)
};

struct PruneSpec {
  std::string criterion = "magnitude";
  sparse::NMPattern pattern{2, 4};
  bool transposable = false;  // 2:4 only, score-only criteria
  sparse::TransposableMethod method = sparse::TransposableMethod::best;
  sparse::Padding padding = sparse::Padding::none;
};

struct PruneResult {
  sparse::Mask mask;           // 1 = kept, the weights' shape and order
  std::vector<float> pruned;   // the pruned weights: weights * mask, or updated kept weights
  double kept_l1 = 1.0;        // kept_l1_fraction(original weights, mask)
};

using ScoreFunction = std::function<std::vector<float>(std::span<const float> weights, const sparse::GroupedShape& shape,
                                                      const CriterionInputs& inputs)>;
using PruneFunction = std::function<PruneResult(std::span<const float> weights, std::span<const std::size_t> shape,
                                                const PruneSpec& spec, const CriterionInputs& inputs)>;

struct Criterion {
  std::string name;     // the --criterion value
  std::string summary;  // one line for --help
  CriterionNeeds needs;
  bool updates_weights = false;  // the kept weights change (PruneResult::pruned is not weights * mask)
  int listing_order = 100;       // position in listings and study reports (then by name)
  // Exactly one of the two. `score`: one score per weight in C order, higher = more important;
  // prune_nm builds the mask. `prune`: the whole result, for criteria that choose masks another
  // way or update weights (it validates the spec itself).
  ScoreFunction score;
  PruneFunction prune;
};

// A criterion that only scores weights, and one that builds the whole result (another mask rule,
// or updated weights).
Criterion score_criterion(std::string name, std::string summary, int listing_order, CriterionNeeds needs,
                          ScoreFunction score);
Criterion prune_criterion(std::string name, std::string summary, int listing_order, CriterionNeeds needs,
                          bool updates_weights, PruneFunction prune);

// The registered criteria in listing order (built-in table first, then run-time additions).
const std::vector<Criterion>& criteria();
// nullptr when unknown.
const Criterion* find_criterion(std::string_view name);
// Adds (or replaces, by name) a criterion. Throws std::invalid_argument unless it has a name and
// exactly one of score and prune.
void register_criterion(Criterion criterion);
// "magnitude, ..." for error messages and help.
std::string criterion_names();

// Runs spec.criterion on the weights. Throws std::invalid_argument for an unknown criterion, a
// bad pattern, a shape that does not divide, or missing/mismatching inputs (naming them).
PruneResult prune_nm(std::span<const float> weights, std::span<const std::size_t> shape, const PruneSpec& spec,
                     const CriterionInputs& inputs = {});

// The shared N:M (or transposable 2:4) selection of score-only criteria: the mask of the
// highest scores, the masked weights and their kept-L1 share.
PruneResult select_by_scores(std::span<const float> weights, std::span<const float> scores,
                             const sparse::GroupedShape& shape, const PruneSpec& spec);

}  // namespace twofour::prune
