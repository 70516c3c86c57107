#pragma once
// `twofour prune` on a whole checkpoint (a folder, or a .safetensors file with --format or
// --mask): every target tensor pruned by the criterion (or by the mask file), every other tensor
// copied and named with the rule that skipped it, into a checkpoint of the same layout.
#include "cli/prune_criteria.hpp"

#include <string>
#include <vector>

namespace twofour::cli {

struct CheckpointPruneOptions {
  std::string input, output;
  std::string format = "dense";  // or sparse-24-bitmask
  std::string mask;              // MaskLLM .npz / ASP mask tensors: applied instead of a criterion
  prune::PruneSpec spec;
  std::string pattern_text;
  std::vector<std::string> tensors;
  bool any_shape = false, report = false;
  CriteriaOptions data;  // --calib / --grad: .npz or .safetensors keyed by tensor name
};

int prune_checkpoint(const CheckpointPruneOptions& o);

}  // namespace twofour::cli
