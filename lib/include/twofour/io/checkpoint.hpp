#pragma once
// Hugging Face style checkpoints: one .safetensors file, or a folder holding either
// `model.safetensors` or shards named by `model.safetensors.index.json`
// ({"metadata": {...}, "weight_map": {tensor: shard file}}), plus other files (config.json,
// tokenizer...). Shards are memory-mapped and tensors read one at a time; release() drops a
// tensor's pages again, so a walk over the checkpoint keeps about one tensor resident.
//
// Opening checks the index against the shards: every shard it names exists and is a plain file
// name in the folder, every tensor it names is in the shard it names, no shard holds a tensor the
// index does not map to it, and no tensor is in two shards. Each failure is a FormatError naming
// the tensor and the shard.
#include "twofour/io/mapped_file.hpp"
#include "twofour/io/safetensors.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace twofour::io {

inline constexpr const char* kIndexFileName = "model.safetensors.index.json";

struct CheckpointTensor {
  std::string name;
  std::size_t shard = 0;  // index into Checkpoint::shards()
  DType dtype = DType::f32;
  std::vector<std::size_t> shape;
  std::uint64_t offset = 0, size = 0;  // bytes in the shard file
};

struct CheckpointShard {
  std::string file;  // name inside the folder (the file name itself for a single-file checkpoint)
  std::map<std::string, std::string> metadata;
  std::vector<std::size_t> tensors;  // indices into Checkpoint::tensors(), in data order
};

class Checkpoint {
 public:
  // A .safetensors file or a checkpoint folder. Throws FormatError naming the path and the fault.
  static Checkpoint open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  bool is_folder() const { return folder_; }
  bool has_index() const { return !index_text_.empty(); }
  const std::string& index_text() const { return index_text_; }  // the index JSON as read
  const std::vector<CheckpointShard>& shards() const { return shards_; }
  const std::vector<CheckpointTensor>& tensors() const { return tensors_; }  // shard by shard, data order
  const CheckpointTensor* find(const std::string& name) const;
  // Files and folders of a checkpoint folder other than the shards and the index (config.json...).
  std::vector<std::filesystem::path> other_entries() const;
  std::filesystem::path shard_path(std::size_t shard) const;

  // The tensor's bytes (little-endian, C order), mapped from its shard.
  std::span<const std::byte> bytes(const CheckpointTensor& t) const;
  Array read(const CheckpointTensor& t) const;  // a copy, as an Array
  void release(const CheckpointTensor& t) const;

 private:
  std::filesystem::path path_;
  bool folder_ = false;
  std::string index_text_;
  std::vector<CheckpointShard> shards_;
  std::vector<MappedFile> maps_;
  std::vector<CheckpointTensor> tensors_;
  std::map<std::string, std::size_t> by_name_;
  static std::string shards_of(const Checkpoint& c, std::size_t tensor);
};

// Writing a checkpoint: tensors are produced one at a time and streamed into their shard, so an
// output never needs more memory than its largest tensor.
using ByteSink = std::function<void(std::span<const std::byte>)>;

struct OutputTensor {
  std::string name;
  DType dtype = DType::f32;
  std::vector<std::size_t> shape;
  // Called once, in order, when the tensor's turn comes: must emit exactly numel * dtype_size
  // bytes (in any number of pieces).
  std::function<void(const ByteSink&)> produce;
};

struct OutputShard {
  std::string file;
  std::map<std::string, std::string> metadata;
  std::vector<OutputTensor> tensors;
};

// Streams one safetensors file (header, then each tensor as produced) into `sink`.
void write_safetensors_to(const OutputShard& shard, const ByteSink& sink);
// Writes one safetensors file at `path` (header first, then each tensor as produced), flushed to
// disk. Throws std::runtime_error when a producer emits the wrong byte count.
void write_streamed_safetensors(const std::filesystem::path& path, const OutputShard& shard);

// The index JSON of `input` (or a new one) with weight_map rebuilt from `shards` and
// metadata.total_size set to the tensors' bytes; other fields are kept.
std::string build_index(const std::string& input_index_text, const std::vector<OutputShard>& shards);

}  // namespace twofour::io
