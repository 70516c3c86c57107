#include "twofour/prune/targets.hpp"

#include <fnmatch.h>

namespace twofour::prune {
namespace {

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TargetDecision decide_target(const std::string& name, io::DType dtype, std::span<const std::size_t> shape,
                             const TargetRule& rule) {
  TargetDecision d;
  if (!rule.globs.empty()) {
    bool match = false;
    for (const auto& g : rule.globs) match = match || g == name || ::fnmatch(g.c_str(), name.c_str(), 0) == 0;
    if (!match) return {false, "--tensor: matches no glob"};
  }
  if (!io::is_floating(dtype)) return {false, "dtype " + std::string(io::dtype_name(dtype)) + ": only floating weights are pruned"};
  if (shape.size() != 2)
    return {false, "rank " + std::to_string(shape.size()) + " " + sparse::shape_string(shape) + ": only 2-D (out, in) weights are pruned"};
  if (rule.globs.empty()) {
    if (!ends_with(name, ".weight")) return {false, "name rule: only *.weight tensors"};
    if (contains(name, "embed") || contains(name, "wte") || contains(name, "wpe"))
      return {false, "name rule: embeddings (*embed*, *wte*, *wpe*) are kept dense"};
    if (contains(name, "lm_head") || contains(name, "classifier") || contains(name, ".score.") || name == "score.weight" ||
        name == "output.weight")
      return {false, "name rule: output heads (*lm_head*, *classifier*, *score*, output.weight) are kept dense"};
  }
  const std::size_t rows = shape[0], cols = shape[1];
  const auto m = static_cast<std::size_t>(rule.pattern.m);
  if (cols == 0 || rows == 0) return {false, "empty tensor " + sparse::shape_string(shape)};
  if (cols % m != 0)
    return {false, "in = " + std::to_string(cols) + " is not a multiple of M = " + std::to_string(m) + " (groups would not divide rows)"};
  if (rule.kernel_shapes && rule.pattern == sparse::NMPattern{2, 4} && (rows % 32 != 0 || cols % 64 != 0))
    return {false, "kernel shapes: " + sparse::shape_string(shape) +
                       " is not (32k, 64k), the smallest multiples sparse 2:4 kernels take (--any-shape to prune it anyway)"};
  d.target = true;
  return d;
}

std::string target_rule_help() {
  return "Targets (default rule): floating 2-D (out, in) tensors named *.weight, except embeddings (*embed*, *wte*, *wpe*) "
         "and output heads (*lm_head*, *classifier*, *score*, output.weight); `in` must be a multiple of M, and for 2:4 "
         "the shape a multiple of (32, 64) as sparse kernels need (--any-shape drops this). --tensor GLOB replaces the name rules.";
}

}  // namespace twofour::prune
