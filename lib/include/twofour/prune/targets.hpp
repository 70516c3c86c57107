#pragma once
// Which tensors of a checkpoint are prune targets, and why the others are not.
//
// Default rule (printed by --help; names are Hugging Face state-dict keys):
//   1. floating dtype (f8/f16/bf16/f32/f64);
//   2. rank 2 (the weight of a linear layer: (out, in), grouped along `in`);
//   3. name ends in ".weight";
//   4. not an embedding (name contains "embed", "wte" or "wpe") and not an output head (name
//      starts with or contains "lm_head", or contains "classifier", ".score." / "score.weight",
//      or is "output.weight");
//   5. `in` is a multiple of M, so groups of M divide each row;
//   6. for 2:4 only, unless kernel shapes are turned off: out % 32 == 0 and in % 64 == 0, the
//      smallest multiples PyTorch's semi-structured sparse tensors accept for 16-bit types
//      (CUTLASS backend; see docs/checkpoints.md).
// With --tensor GLOB (repeatable), rules 3 and 4 are replaced by "name matches a glob" (fnmatch).
#include "twofour/io/array.hpp"
#include "twofour/sparse/pattern.hpp"

#include <span>
#include <string>
#include <vector>

namespace twofour::prune {

struct TargetRule {
  std::vector<std::string> globs;  // empty: the default name rules
  sparse::NMPattern pattern{2, 4};
  bool kernel_shapes = true;  // rule 6
};

struct TargetDecision {
  bool target = false;
  std::string reason;  // why not (empty for a target), naming the rule
};

TargetDecision decide_target(const std::string& name, io::DType dtype, std::span<const std::size_t> shape,
                             const TargetRule& rule);

// The rule above in a few lines, for --help.
std::string target_rule_help();

}  // namespace twofour::prune
