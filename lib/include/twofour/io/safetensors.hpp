#pragma once
// safetensors files (huggingface/safetensors, format described in its README): an 8-byte
// little-endian header length N, N bytes of JSON {"name": {"dtype", "shape", "data_offsets":
// [begin, end]}, "__metadata__": {string: string}}, then the byte buffer. Reading enforces the
// spec's rules: header <= 100 MB and starting with '{', known dtypes, offsets inside the buffer,
// end - begin = numel * size, tensors contiguous and covering the whole buffer without overlap.
// Writing pads the header with spaces to a multiple of 8 bytes, as the reference writer does.
#include "twofour/io/npz.hpp"

#include <filesystem>
#include <map>

namespace twofour::io {

inline constexpr std::size_t kMaxSafetensorsHeader = 100'000'000;

struct SafetensorsFile {
  NamedArrays tensors;                          // in data-offset order
  std::map<std::string, std::string> metadata;  // "__metadata__"
};

SafetensorsFile parse_safetensors(std::span<const std::byte> bytes);
std::vector<std::byte> serialize_safetensors(const SafetensorsFile& file);

SafetensorsFile read_safetensors(const std::filesystem::path& path);
void write_safetensors(const std::filesystem::path& path, const SafetensorsFile& file);

// Safetensors dtype names ("F32", "BF16", ...); nullopt for our dtypes it lacks (complex).
std::optional<std::string_view> safetensors_dtype(DType t);

}  // namespace twofour::io
