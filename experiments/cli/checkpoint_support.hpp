#pragma once
// What `twofour check`, `convert` and `prune` share about checkpoints on the command line:
// opening one with one clear error, the provenance line added to every output shard, and the
// text of a folder's config.json.
#include "cli/command.hpp"
#include "twofour/io/checkpoint.hpp"
#include "twofour/io/checkpoint_writer.hpp"

#include <optional>
#include <string>

namespace twofour::cli {

// Throws CommandFailed with the reader's located message.
io::Checkpoint open_checkpoint(const std::string& path);
// "twofour 0.1.0 (git abc) <what>": the value of the "twofour" metadata key of output shards.
std::string provenance(const std::string& what);
// The shard's metadata with the provenance added (earlier twofour entries kept as "twofour.1"...).
std::map<std::string, std::string> with_provenance(std::map<std::string, std::string> metadata, const std::string& what);
// config.json of a checkpoint folder, or nullopt (a file input, or a folder without one).
std::optional<std::string> read_config(const io::Checkpoint& c);
// Zero elements over all floating elements written: compressed-tensors' global_sparsity.
struct ZeroCount {
  std::size_t zeros = 0, elements = 0;
  void add(std::span<const std::byte> bytes, io::DType dtype);
  double share() const { return elements ? static_cast<double>(zeros) / static_cast<double>(elements) : 0.0; }
};
// `t` with its emitted bytes counted into `count`. For a sparse-24-bitmask P.compressed (the
// kept half of a dense weight whose dropped half is zeros) pass dropped_zeros = rows * cols / 2.
io::OutputTensor counted(io::OutputTensor t, ZeroCount& count, std::size_t dropped_zeros = 0);
// Every output tensor counted: P.compressed with its dropped half, P.bitmask and P.shape not at all.
void count_all(std::vector<io::OutputTensor>& tensors, ZeroCount& count);

// Runs write_checkpoint, turning its failures into CommandFailed (nothing is left behind).
void write_output(const io::Checkpoint& in, const std::string& out, const std::vector<io::OutputShard>& shards,
                  const std::function<std::map<std::string, std::string>()>& replaced_files = {});

}  // namespace twofour::cli
