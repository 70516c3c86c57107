// `twofour check PATH`: is this model really N:M? One line per tensor (dtype, shape, target or
// the rule that excludes it, sparsity, violating groups with the first one located, -0.0 count),
// --json for tools; exit 0 when every target conforms, 1 when any does not. The input kinds are
// a table (kCheckers), so another file type is one more entry.
#include "cli/check_onnx.hpp"
#include "cli/command.hpp"
#include "twofour/io/output_set.hpp"
#include "twofour/io/checkpoint.hpp"
#include "twofour/prune/checkpoint_check.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace twofour::cli {
namespace {

struct Options {
  std::string path, pattern = "2:4", json;
  std::vector<std::string> tensors;
  bool any_shape = false;
};

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * x);
  return buf;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

void print_table(const prune::CheckReport& r) {
  std::size_t name_w = 6;
  for (const auto& t : r.tensors) name_w = std::max(name_w, t.name.size());
  std::cout << pad("tensor", name_w) << "  " << pad("dtype", 11) << "  " << pad("shape", 14) << "  " << pad("sparsity", 8) << "  "
            << pad(sparse::to_string(r.pattern), 22) << "  " << pad("-0.0", 6) << "  target\n";
  for (const auto& t : r.tensors) {
    std::string nm = "-";
    if (!t.error.empty()) {
      nm = "UNREADABLE";
    } else if (t.grouped) {
      nm = t.scan.ok() ? "ok" : std::to_string(t.scan.bad_groups) + "/" + std::to_string(t.scan.groups) + " violate";
      if (t.scan.ok() && t.scan.bitwise_bad_groups > 0) nm = "ok (" + std::to_string(t.scan.bitwise_bad_groups) + " by -0.0 bits)";
    }
    const double sparsity = t.scan.elements ? static_cast<double>(t.scan.zeros) / static_cast<double>(t.scan.elements) : 0.0;
    std::string target = t.target.target ? (t.conforms() ? "yes" : "yes: FAILS") : "no: " + t.target.reason;
    if (t.layout != "dense") target += " [" + t.layout + "]";
    std::cout << pad(t.name, name_w) << "  " << pad(std::string(io::dtype_name(t.dtype)), 11) << "  "
              << pad(sparse::shape_string(t.shape), 14) << "  " << pad(percent(sparsity), 8) << "  " << pad(nm, 22) << "  "
              << pad(std::to_string(t.scan.negative_zeros), 6) << "  " << target << "\n";
  }
  for (const auto& t : r.tensors) {
    if (!t.error.empty()) std::cout << t.name << ": " << t.error << "\n";
    if (t.target.target && t.grouped && !t.scan.ok())
      std::cout << t.name << ": first violation at " << prune::first_violation(t, r.pattern) << " (" << sparse::to_string(r.pattern)
                << " keeps at most " << r.pattern.n << " of every " << r.pattern.m << ")\n";
    if (t.scan.negative_zeros > 0 && t.grouped && t.scan.bitwise_bad_groups > 0)
      std::cout << t.name << ": " << t.scan.bitwise_bad_groups
                << " groups conform only because -0.0 counts as zero; a kernel reading bit patterns would see them as "
                   "non-zero\n";
  }
  std::cout << r.tensors.size() << " tensors, " << r.targets() << " targets, " << r.failing() << " failing: "
            << (r.ok() ? "every target is " + sparse::to_string(r.pattern) : "NOT " + sparse::to_string(r.pattern)) << " ("
            << r.pattern.n << " kept of every " << r.pattern.m << " along the input dim)\n";
}

int check_safetensors(const Options& o, const prune::TargetRule& rule) {
  std::optional<io::OutputSet> json_out;
  if (!o.json.empty()) json_out.emplace(std::vector<std::filesystem::path>{o.path}, std::vector<std::filesystem::path>{o.json});
  io::Checkpoint c;
  try {
    c = io::Checkpoint::open(o.path);
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
  prune::CheckReport report;
  try {
    report = prune::check_checkpoint(c, rule);
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
  print_table(report);
  if (json_out) {  // the report is the answer, written whether or not the targets conform
    json_out->write(o.json, prune::check_report_json(report));
    json_out->commit();
  }
  if (report.ok()) return 0;
  for (const auto& t : report.tensors)
    if (!t.conforms())
      throw CommandFailed(std::to_string(report.failing()) + " of " + std::to_string(report.targets()) + " targets are not " +
                          sparse::to_string(rule.pattern) + "; first: " + t.name +
                          (t.error.empty() ? " at " + prune::first_violation(t, rule.pattern) : ": " + t.error));
  return 1;
}

struct Checker {
  const char* kind;
  bool (*matches)(const std::filesystem::path&);
  int (*run)(const Options&, const prune::TargetRule&);
};

const Checker kCheckers[] = {
    {"safetensors checkpoint (a .safetensors file, or a folder with model.safetensors or model.safetensors.index.json)",
     [](const std::filesystem::path& p) { return std::filesystem::is_directory(p) || p.extension() == ".safetensors"; },
     check_safetensors},
    {"ONNX model (.onnx: its Gemm/Conv weight initializers)",
     [](const std::filesystem::path& p) { return p.extension() == ".onnx"; },
     [](const Options& o, const prune::TargetRule&) {
       if (!o.json.empty() || o.pattern != "2:4" || !o.tensors.empty() || o.any_shape)
         throw UsageError("--json, --pattern, --tensor and --any-shape are for checkpoints; an ONNX model is checked for 2:4 only");
       return check_onnx_file(o.path);
     }},
};

int run(const Options& o) {
  prune::TargetRule rule;
  try {
    rule.pattern = sparse::parse_pattern(o.pattern);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--pattern: ") + e.what());
  }
  rule.globs = o.tensors;
  rule.kernel_shapes = !o.any_shape;
  if (!std::filesystem::exists(o.path)) throw CommandFailed(o.path + ": no such file or folder");
  for (const auto& c : kCheckers)
    if (c.matches(o.path)) return c.run(o, rule);
  std::string kinds;
  for (const auto& c : kCheckers) kinds += std::string(kinds.empty() ? "" : "; ") + c.kind;
  throw CommandFailed(o.path + ": cannot check this kind of file (accepted: " + kinds + ")");
}

RegisterCommand reg{{"check", "Is a checkpoint (safetensors) or ONNX model really N:M (N kept of every M)? Exit 1 if not",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("path", o->path, "a .safetensors file, a checkpoint folder (model.safetensors.index.json + shards), or MODEL.onnx")->required();
    sub.add_option("--pattern", o->pattern, "N:M: N non-zero KEPT of every M along the input dim (default 2:4; some tools count N as the pruned ones)");
    sub.add_option("--json", o->json, "also write the report as JSON to this file");
    sub.add_option("--tensor", o->tensors, "tensor name or glob (repeatable): the targets, replacing the default name rules");
    sub.add_flag("--any-shape", o->any_shape, "drop the kernel-shape rule (2:4 targets need out % 32 == 0 and in % 64 == 0)");
    sub.footer(prune::target_rule_help() + "\nZeros of either sign count as zero; -0.0 values are counted, because kernels "
               "that read bit patterns see them as non-zero. Exit 0: every target conforms; 1: some target does not "
               "(or the input is malformed); 2: bad usage.");
    return [o]() { return run(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
