// `twofour convert --to dense|sparse-24-bitmask IN OUT`: between dense checkpoints and the
// compressed-tensors sparse-24-bitmask format (twofour/io/compressed_tensors.hpp), file to file or
// folder to folder, shards and index kept. A target that is not 2:4 stops the conversion with its
// tensor, row and group, and nothing is written.
#include "cli/checkpoint_support.hpp"
#include "cli/command.hpp"
#include "twofour/io/compressed_tensors.hpp"
#include "twofour/prune/targets.hpp"

#include <iostream>
#include <memory>
#include <set>

namespace twofour::cli {
namespace {

struct Options {
  std::string to, input, output;
  std::vector<std::string> tensors;
  bool any_shape = false;
};

void add_compressed(const io::Checkpoint& in, const io::CheckpointTensor& t, io::OutputShard& shard) {
  auto parts = io::compressed_outputs(t.name, t.dtype, t.shape[0], t.shape[1], [&in, &t] {
    const auto b = in.bytes(t);
    std::vector<std::byte> dense(b.begin(), b.end());
    in.release(t);
    return dense;
  });
  for (auto& p : parts) shard.tensors.push_back(std::move(p));
}

int run(const Options& o) {
  if (o.to != "dense" && o.to != io::kBitmask24Format) throw UsageError("--to must be dense or sparse-24-bitmask, not '" + o.to + "'");
  const io::Checkpoint in = open_checkpoint(o.input);
  std::vector<io::CompressedWeight> compressed;
  try {
    compressed = io::find_compressed_weights(in);
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
  std::map<const io::CheckpointTensor*, const io::CompressedWeight*> part_of;
  for (const auto& w : compressed)
    for (const auto* p : {w.compressed, w.bitmask, w.shape}) part_of[p] = &w;
  const auto config = read_config(in);
  std::optional<io::SparsityConfig> in_settings;
  if (config) {
    try {
      in_settings = io::read_sparsity_config(*config);
    } catch (const io::FormatError& e) {
      throw CommandFailed((in.path() / "config.json").string() + ": " + e.what());
    }
  }
  if (!compressed.empty() && in_settings && in_settings->format != io::kBitmask24Format)
    std::cout << "note: config.json says format '" << in_settings->format << "', but " << compressed.size()
              << " weights are stored as sparse-24-bitmask; reading them as such\n";

  prune::TargetRule rule;
  rule.globs = o.tensors;
  rule.kernel_shapes = !o.any_shape;
  ZeroCount count;
  std::vector<std::string> targets;
  std::vector<io::OutputShard> shards;
  std::set<const io::CompressedWeight*> done;
  for (const auto& s : in.shards()) {
    io::OutputShard out;
    out.file = s.file;
    out.metadata = with_provenance(s.metadata, "convert --to " + o.to);
    for (const std::size_t i : s.tensors) {
      const auto& t = in.tensors()[i];
      if (const auto it = part_of.find(&t); it != part_of.end()) {
        const io::CompressedWeight* w = it->second;
        targets.push_back(w->prefix);
        if (o.to == io::kBitmask24Format) {
          out.tensors.push_back(io::copy_tensor(in, t));
          continue;
        }
        if (!done.insert(w).second) continue;  // P.weight replaces its three parts where the first one was
        std::vector<std::size_t> shape;
        try {
          const auto [rows, cols] = io::compressed_weight_shape(in, *w);
          shape = {rows, cols};
        } catch (const io::FormatError& e) {
          throw CommandFailed(e.what());
        }
        out.tensors.push_back({w->dense_name(), w->compressed->dtype, shape, [&in, w](const io::ByteSink& sink) {
                                 io::Array dense;
                                 try {
                                   dense = io::decompress_weight(in, *w);
                                 } catch (const io::FormatError& e) {
                                   throw CommandFailed(std::string(e.what()) + "; nothing was written");
                                 }
                                 for (const auto* p : {w->compressed, w->bitmask, w->shape}) in.release(*p);
                                 sink(dense.data);
                               }});
        continue;
      }
      const auto d = prune::decide_target(t.name, t.dtype, t.shape, rule);
      if (o.to == io::kBitmask24Format && d.target) {
        targets.push_back(io::bitmask24_prefix(t.name));
        add_compressed(in, t, out);
      } else {
        if (o.to == io::kBitmask24Format) std::cout << "kept dense: " << t.name << ": " << d.reason << "\n";
        out.tensors.push_back(io::copy_tensor(in, t));
      }
    }
    count_all(out.tensors, count);
    shards.push_back(std::move(out));
  }
  if (o.to == io::kBitmask24Format && targets.empty())
    throw CommandFailed(o.input + ": no tensor is a target, nothing to compress (see `twofour check " + o.input + "`)");

  write_output(in, o.output, shards, [&]() -> std::map<std::string, std::string> {
    if (!config) return {};
    io::SparsityConfig s = in_settings.value_or(io::SparsityConfig{});
    s.format = o.to;
    s.sparsity_structure = "2:4";
    s.targets = targets;
    s.global_sparsity = count.share();
    return {{"config.json", io::write_sparsity_config(*config, s)}};
  });
  std::cout << (o.to == "dense" ? "decompressed " : "compressed ") << targets.size() << " weights; wrote " << o.output
            << (config ? " (config.json sparsity_config format " + o.to + ")" : "") << "\n";
  return 0;
}

RegisterCommand reg{{"convert", "dense <-> compressed-tensors sparse-24-bitmask checkpoints (file or folder), exact round trips",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("--to", o->to, "dense or sparse-24-bitmask")->required();
    sub.add_option("input", o->input, "a .safetensors file or a checkpoint folder")->required();
    sub.add_option("output", o->output, "a new file or folder (never an existing path)")->required();
    sub.add_option("--tensor", o->tensors, "weights to compress, name or glob (repeatable), replacing the default name rules");
    sub.add_flag("--any-shape", o->any_shape, "drop the kernel-shape rule (out % 32 == 0, in % 64 == 0)");
    sub.footer(prune::target_rule_help() +
               "\nsparse-24-bitmask stores P.compressed (kept values, rows x cols/2, the weight's dtype), P.bitmask (uint8, "
               "rows x ceil(cols/8), lowest column in the least significant bit) and P.shape (int64, 2 x 1) for each "
               "P.weight; 2:4 means 2 kept of every 4 along the input dim. A target that is not 2:4 is an error naming "
               "tensor, row and group, and nothing is written.");
    return [o]() { return run(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
