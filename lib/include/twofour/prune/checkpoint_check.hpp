#pragma once
// `twofour check` as a library call: every tensor of a checkpoint with its dtype, shape, whether
// it is a prune target (and the rule that says why not), its sparsity, and N:M conformance along
// the input dim (N kept of every M) with the first violating group. sparse-24-bitmask weights
// (P.compressed + P.bitmask + P.shape) are decompressed, validated and checked as P.weight.
// Tensors are read one at a time through the checkpoint's memory maps and released after use.
#include "twofour/io/checkpoint.hpp"
#include "twofour/prune/targets.hpp"
#include "twofour/sparse/nm_scan.hpp"

#include <functional>
#include <string>
#include <vector>

namespace twofour::prune {

struct TensorCheck {
  std::string name;
  std::string shard;
  io::DType dtype = io::DType::f32;
  std::vector<std::size_t> shape;
  std::string layout = "dense";  // or "sparse-24-bitmask"
  TargetDecision target;
  bool grouped = false;  // scan holds N:M counts (2-D, in % M == 0); otherwise zero counts only
  sparse::NMScan scan;
  std::string error;  // a compressed weight that could not be read (the check fails)
  bool conforms() const { return error.empty() && (!target.target || scan.ok()); }
};

struct CheckReport {
  std::string path;
  sparse::NMPattern pattern{2, 4};
  std::vector<TensorCheck> tensors;
  bool ok() const;
  std::size_t targets() const;
  std::size_t failing() const;
};

CheckReport check_checkpoint(const io::Checkpoint& c, const TargetRule& rule);

// "row 3, group 5 (columns 20..23): 3 non-zero" for the first violation of t ("" when none).
std::string first_violation(const TensorCheck& t, sparse::NMPattern pattern);
// The report as JSON (schema in docs/checkpoints.md).
std::string check_report_json(const CheckReport& r);

}  // namespace twofour::prune
