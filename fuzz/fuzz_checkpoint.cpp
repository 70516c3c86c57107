// libFuzzer target: a checkpoint folder whose model.safetensors.index.json (first byte even) or
// single model.safetensors (first byte odd) is the fuzz input, beside two fixed shards holding a
// compressed-tensors sparse-24-bitmask weight. Opening, reading every tensor, finding and
// decompressing the compressed weights, and reading the input as config.json must either work or
// throw FormatError; anything else (a crash, another exception) is a bug.
#include "twofour/io/checkpoint.hpp"
#include "twofour/io/compressed_tensors.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using namespace twofour::io;

Array array_of(DType dtype, std::vector<std::size_t> shape, std::vector<std::byte> data) {
  Array a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  a.data = std::move(data);
  return a;
}

// Shard a: layer.compressed (2 x 2 f32 values) and layer.bitmask (2 x 1: bits 0,1 kept of 4 columns);
// shard b: layer.shape (int64 2 x 1) and norm.weight.
fs::path make_folder() {
  const fs::path dir = fs::temp_directory_path() / ("twofour-fuzz-checkpoint-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<std::byte> values(16, std::byte{0x3f});
  std::vector<std::byte> bits = {std::byte{0x03}, std::byte{0x05}};
  std::vector<std::byte> shape(16, std::byte{0});
  shape[0] = std::byte{2};
  shape[8] = std::byte{4};
  SafetensorsFile a, b;
  a.tensors = {{"layer.compressed", array_of(DType::f32, {2, 2}, values)}, {"layer.bitmask", array_of(DType::u8, {2, 1}, bits)}};
  b.tensors = {{"layer.shape", array_of(DType::i64, {2, 1}, shape)}, {"norm.weight", array_of(DType::f32, {4}, std::vector<std::byte>(16))}};
  for (const auto& [name, file] : {std::pair{"a.safetensors", &a}, std::pair{"b.safetensors", &b}}) {
    const std::vector<std::byte> bytes = serialize_safetensors(*file);
    std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path dir = make_folder();
  if (size == 0) return 0;
  const bool as_index = (data[0] & 1) == 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::error_code ec;
  fs::remove(dir / kIndexFileName, ec);
  fs::remove(dir / "model.safetensors", ec);
  std::ofstream(dir / (as_index ? kIndexFileName : "model.safetensors"), std::ios::binary) << text;
  try {
    const Checkpoint c = Checkpoint::open(dir);
    for (const CheckpointTensor& t : c.tensors()) (void)c.read(t);
    for (const CompressedWeight& w : find_compressed_weights(c)) (void)decompress_weight(c, w);
  } catch (const FormatError&) {
  }
  try {
    (void)read_sparsity_config(text);
  } catch (const FormatError&) {
  }
  return 0;
}
