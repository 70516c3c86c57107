#pragma once
// Reading and writing checkpoints in compressed-tensors' `sparse-24-bitmask` format (facts and
// source: docs/checkpoints.md). A weight "P.weight" (the ".weight" suffix dropped to form the
// prefix P; a name without it is its own prefix) is stored as three tensors:
//   P.compressed  the kept values, rows x cols/2, in the weight's dtype;
//   P.bitmask     uint8, rows x ceil(cols/8) (layout: twofour/sparse/bitmask24.hpp);
//   P.shape       int64, shape (2, 1): the dense rows and cols.
// config.json carries quantization_config.sparsity_config with format "sparse-24-bitmask".
#include "twofour/io/checkpoint.hpp"

#include <optional>
#include <string>
#include <vector>

namespace twofour::io {

inline constexpr const char* kBitmask24Format = "sparse-24-bitmask";

struct CompressedWeight {
  std::string prefix;  // P
  const CheckpointTensor* compressed = nullptr;
  const CheckpointTensor* bitmask = nullptr;
  const CheckpointTensor* shape = nullptr;
  std::string dense_name() const { return prefix + ".weight"; }
};

std::string bitmask24_prefix(const std::string& weight_name);

// Every P with a P.compressed, P.bitmask or P.shape tensor. Throws FormatError naming P when one
// of the three is missing.
std::vector<CompressedWeight> find_compressed_weights(const Checkpoint& c);

// The dense (rows, cols) of P.shape, checked: int64 (or int32) with two elements, positive,
// cols % 4 == 0, and agreeing with P.compressed (rows x cols/2) and P.bitmask
// (uint8, rows x ceil(cols/8)). Throws FormatError naming the tensor and the disagreement.
std::pair<std::size_t, std::size_t> compressed_weight_shape(const Checkpoint& c, const CompressedWeight& w);

// The dense weight, bit for bit: throws FormatError naming P, the row and the group when a
// bitmask group does not hold exactly 2 bits.
Array decompress_weight(const Checkpoint& c, const CompressedWeight& w);

// The three output tensors (P.compressed, P.bitmask, P.shape) that replace the dense 2:4 weight
// `weight_name` of rows x cols elements of `dtype`. `dense` is called once, when P.compressed is
// written, and returns the dense bytes. Writing throws sparse::Bitmask24Error naming the tensor,
// row and group when the weight is not 2:4.
std::vector<OutputTensor> compressed_outputs(const std::string& weight_name, DType dtype, std::size_t rows, std::size_t cols,
                                             std::function<std::vector<std::byte>()> dense);

// The sparsity settings in a config.json text: nullopt when it has none.
struct SparsityConfig {
  std::string format;  // "sparse-24-bitmask", "dense"...
  std::string sparsity_structure;
  std::vector<std::string> targets, ignore;
  double global_sparsity = 0;
};
std::optional<SparsityConfig> read_sparsity_config(const std::string& config_json_text);
// config.json text with quantization_config.sparsity_config set to `s` (quant_method
// "compressed-tensors" added when absent), or removed when `s` is nullopt (and the
// quantization_config with it when nothing else remains). Other fields are kept.
std::string write_sparsity_config(const std::string& config_json_text, const std::optional<SparsityConfig>& s);

}  // namespace twofour::io
