#pragma once
// Writes a checkpoint of the same layout as an input one: a file for a file, a folder for a
// folder with the same shard file names, an index (weight_map rebuilt, total_size updated, other
// fields kept) when the input had one, and every other file of the folder copied (or replaced by
// `replaced_files`). Outputs go through an io::OutputSet (output_set.hpp): the input is never
// overwritten, and the output appears complete or not at all; nothing is written when a
// producer throws. A folder's shards stream to disk tensor by tensor; a single-file output is
// assembled in memory before its atomic write.
#include "twofour/io/checkpoint.hpp"

#include <functional>
#include <map>

namespace twofour::io {

// An output tensor that streams the input tensor's bytes unchanged, then releases them.
OutputTensor copy_tensor(const Checkpoint& in, const CheckpointTensor& t);

// `shards` must hold one OutputShard per input shard (same file names, same order).
// `replaced_files`, called after the shards are written (so it may use what the producers
// counted): name inside the folder -> new content (written instead of a copy, or added).
// Throws std::runtime_error (output exists, write failure) or whatever a producer throws.
void write_checkpoint(const Checkpoint& in, const std::filesystem::path& out, const std::vector<OutputShard>& shards,
                      const std::function<std::map<std::string, std::string>()>& replaced_files = {});

}  // namespace twofour::io
