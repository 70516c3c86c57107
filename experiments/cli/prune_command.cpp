// `twofour prune`: N:M (or transposable 2:4) masks for a weight in .npy, or for the tensors of a
// .safetensors file picked by name or glob. Criteria come from the lib registry
// (twofour/prune/criterion.hpp), so new ones appear here without changes.
#include "cli/command.hpp"
#include "cli/prune_checkpoint.hpp"
#include "cli/prune_criteria.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/io/output_set.hpp"
#include "twofour/io/safetensors.hpp"
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/targets.hpp"

#include <fnmatch.h>

#include <filesystem>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace twofour::cli {
namespace {

struct Options {
  std::string input, output, pruned, criterion = "magnitude", pattern = "2:4", method = "best", dtype;
  std::vector<std::string> tensors;
  std::string format, mask;  // whole checkpoints (prune_checkpoint.hpp)
  bool transposable = false, report = false, pad = false, any_shape = false;
  CriteriaOptions data;  // --calib, --grad, --seed, --permute... (prune_criteria.hpp)
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ASP keeps a module's mask in the buffer `__weight_mma_mask`: "layer.weight" -> "layer.__weight_mma_mask".
std::string mask_name(const std::string& tensor) {
  const auto dot = tensor.rfind('.');
  const std::string prefix = dot == std::string::npos ? "" : tensor.substr(0, dot + 1);
  const std::string last = dot == std::string::npos ? tensor : tensor.substr(dot + 1);
  return prefix + "__" + last + "_mma_mask";
}

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * x);
  return buf;
}

CriteriaRun run_prune(const io::Array& weight, const prune::PruneSpec& spec, const CriteriaOptions& data,
                      const std::string& what) {
  if (weight.dtype == io::DType::c64 || weight.dtype == io::DType::c128 || weight.dtype == io::DType::b1)
    throw CommandFailed(what + ": cannot prune a " + std::string(io::dtype_name(weight.dtype)) + " tensor");
  return run_criteria(io::to_float32(weight), weight.shape, spec, data, what);
}

// Zeroes pruned elements in the tensor's own dtype, so kept values stay bit-exact.
io::Array apply_to_bytes(io::Array a, const sparse::Mask& mask) {
  const std::size_t es = io::dtype_size(a.dtype);
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (!mask[i])
      for (std::size_t b = 0; b < es; ++b) a.data[i * es + b] = std::byte{0};
  return a;
}

int run(const Options& o) {
  prune::PruneSpec spec;
  if (prune::find_criterion(o.criterion) == nullptr)
    throw UsageError("unknown --criterion '" + o.criterion + "' (known: " + prune::criterion_names() + ")");
  spec.criterion = o.criterion;
  try {
    spec.pattern = sparse::parse_pattern(o.pattern);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--pattern: ") + e.what());
  }
  spec.transposable = o.transposable;
  if (o.transposable && spec.pattern != sparse::NMPattern{2, 4}) throw UsageError("--transposable needs --pattern 2:4");
  if (o.method == "best") {
    spec.method = sparse::TransposableMethod::best;
  } else if (o.method == "best90") {
    spec.method = sparse::TransposableMethod::best90;
  } else if (o.method == "greedy") {
    spec.method = sparse::TransposableMethod::greedy;
  } else {
    throw UsageError("--method must be best, best90 or greedy, not '" + o.method + "'");
  }
  spec.padding = o.pad ? sparse::Padding::zeros : sparse::Padding::none;
  if (!o.dtype.empty() && o.dtype != "bf16") throw UsageError("--dtype accepts only bf16 (for uint16 input)");

  if (std::filesystem::is_directory(o.input) || !o.format.empty() || !o.mask.empty()) {
    if (!o.pruned.empty() || !o.dtype.empty() || o.pad) throw UsageError("--pruned, --dtype and --pad apply to one .npy weight");
    CheckpointPruneOptions c;
    c.input = o.input;
    c.output = o.output;
    c.format = o.format.empty() ? "dense" : o.format;
    c.mask = o.mask;
    c.spec = spec;
    c.pattern_text = o.pattern;
    c.tensors = o.tensors;
    c.any_shape = o.any_shape;
    c.report = o.report;
    c.data = o.data;
    return prune_checkpoint(c);
  }
  if (ends_with(o.input, ".safetensors")) {
    if (o.tensors.empty()) throw UsageError("a .safetensors input needs --tensor NAME|GLOB");
    if (!o.pruned.empty()) throw UsageError("--pruned applies to .npy input; a .safetensors output holds the pruned tensors");
    if (!o.data.calib.empty() || !o.data.grad.empty() || o.data.permute)
      throw UsageError("--calib, --grad and --permute apply to one .npy weight");
    if (!ends_with(o.output, ".safetensors")) throw UsageError("the output of a .safetensors input must be a .safetensors file");
    io::OutputSet outputs({o.input}, {o.output});
    io::SafetensorsFile file;
    try {
      file = io::read_safetensors(o.input);
    } catch (const io::FormatError& e) {
      throw CommandFailed(e.what());
    }
    io::SafetensorsFile out;
    out.metadata = file.metadata;
    out.metadata["twofour.prune"] = o.criterion + " " + o.pattern + (o.transposable ? " transposable " + o.method : "");
    std::size_t matched = 0;
    for (auto& [name, array] : file.tensors) {
      bool match = false;
      for (const auto& g : o.tensors) match = match || g == name || ::fnmatch(g.c_str(), name.c_str(), 0) == 0;
      if (!match) {
        out.tensors.emplace_back(name, std::move(array));
        continue;
      }
      ++matched;
      const auto result = run_prune(array, spec, o.data, "tensor '" + name + "'").result;
      if (o.report) std::cout << name << ": kept L1 " << percent(result.kept_l1) << "\n";
      io::Array mask;
      mask.dtype = io::DType::b1;  // ASP stores masks as bool buffers
      mask.shape = array.shape;
      mask.data.resize(result.mask.size());
      for (std::size_t i = 0; i < result.mask.size(); ++i) mask.data[i] = static_cast<std::byte>(result.mask[i]);
      out.tensors.emplace_back(name, apply_to_bytes(std::move(array), result.mask));
      out.tensors.emplace_back(mask_name(name), std::move(mask));
    }
    if (matched == 0) {
      std::string names;
      for (const auto& t : out.tensors) names += (names.empty() ? "" : ", ") + t.first;
      if (names.size() > 300) names = names.substr(0, 300) + "...";
      throw CommandFailed("no tensor of " + o.input + " matches --tensor (tensors: " + names + ")");
    }
    outputs.write(o.output, io::serialize_safetensors(out));
    outputs.commit();
    return 0;
  }

  io::OutputSet outputs({o.input, o.data.calib, o.data.grad}, {o.output, o.pruned, permutation_path(o.data, o.output)});
  io::Array weight;
  try {
    weight = io::read_npy(o.input);
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
  if (!o.tensors.empty()) throw UsageError("--tensor applies to .safetensors input");
  if (o.dtype == "bf16") {
    if (weight.dtype != io::DType::u16 && weight.dtype != io::DType::i16)
      throw UsageError("--dtype bf16 needs uint16 input, " + o.input + " holds " + std::string(io::dtype_name(weight.dtype)));
    weight.dtype = io::DType::bf16;
  }
  const auto run_result = run_prune(weight, spec, o.data, o.input);
  const auto& result = run_result.result;
  io::Array mask;
  mask.dtype = io::DType::i8;
  mask.shape = weight.shape;
  mask.data.resize(result.mask.size());
  for (std::size_t i = 0; i < result.mask.size(); ++i) mask.data[i] = static_cast<std::byte>(result.mask[i]);
  outputs.write(o.output, io::serialize_npy(mask));
  if (!o.pruned.empty())  // permuted or SparseGPT-updated weights are new values: round them to the input dtype
    outputs.write(o.pruned, io::serialize_npy(run_result.weights_changed ? io::from_float32(result.pruned, weight.shape, weight.dtype)
                                                                         : apply_to_bytes(std::move(weight), result.mask)));
  write_permutation(run_result, o.data, o.output, outputs);
  outputs.commit();
  if (o.report)
    std::cout << "kept L1: " << percent(result.kept_l1) << " (" << o.criterion << " " << o.pattern
              << (o.transposable ? " transposable " + o.method : "") << ", shape " << sparse::shape_string(mask.shape)
              << ")\n" << criteria_report(run_result);
  return 0;
}

RegisterCommand reg{{"prune", "N:M masks (N kept of every M input channels) for a .npy or .safetensors weight",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("input", o->input, "weight .npy ((out, in), Conv1d (K, C, R), Conv2d (K, C, R, S)), .safetensors, or a checkpoint folder")->required();
    sub.add_option("output", o->output, "int8 0/1 mask .npy, the output .safetensors (pruned tensors + bool masks), or a new checkpoint (folder or file)")->required();
    sub.add_option("--criterion", o->criterion, "score: " + prune::criterion_names());
    sub.add_option("--pattern", o->pattern, "N:M, N weights kept of every M along input channels (default 2:4)");
    sub.add_flag("--transposable", o->transposable, "2:4 along rows and columns of every 4x4 block");
    sub.add_option("--method", o->method, "transposable search: best (exact over all masks with <= 2 per row and column), best90 (Apex mn_2d_best: the 90 exactly-2 patterns) or greedy (Apex mn_2d_greedy)");
    sub.add_flag("--pad", o->pad, "zero-pad input channels that are not a multiple of M instead of failing");
    sub.add_option("--pruned", o->pruned, "also write the pruned weight (.npy, input dtype)");
    sub.add_flag("--report", o->report, "print the kept share of L1 magnitude");
    sub.add_option("--tensor", o->tensors, "safetensors tensor name or glob (repeatable); for a checkpoint it replaces the default name rules");
    sub.add_option("--format", o->format, "checkpoint output: dense (pruned values zeroed, the default for a folder) or sparse-24-bitmask (compressed-tensors)");
    sub.add_option("--mask", o->mask, "apply published masks instead of a criterion: MaskLLM .npz (packed bits) or ASP-style mask tensors (.npz/.safetensors), keyed by tensor name");
    sub.add_flag("--any-shape", o->any_shape, "checkpoints: drop the kernel-shape rule (2:4 targets need out % 32 == 0 and in % 64 == 0)");
    sub.add_option("--dtype", o->dtype, "bf16: read uint16 .npy input as bfloat16 bit patterns");
    add_criteria_options(sub, o->data);
    sub.footer("N:M means N weights KEPT of every M along the input dim (as in PTX); SparseGPT, Wanda and llm-compressor count N "
               "as the pruned ones. NaN and infinite weights are rejected by every criterion, with the index of the first one "
               "and the counts (no rule ranks a NaN honestly). Outputs never overwrite an input or each other and appear all "
               "together or not at all. A checkpoint (a folder with model.safetensors.index.json + shards or model.safetensors, "
               "or a .safetensors file with --format/--mask) is written with the same layout: shards, index and other files "
               "kept, provenance added to each shard's metadata; every tensor not pruned is listed with its reason. For a "
               "checkpoint, --calib/--grad are an .npz or .safetensors keyed by tensor name ('P.weight' or 'P').\n" +
               prune::target_rule_help());
    return [o]() { return run(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
