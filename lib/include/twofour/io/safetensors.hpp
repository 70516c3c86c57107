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

// One tensor of a header: offsets are relative to the byte buffer after the header.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::f32;
  std::vector<std::size_t> shape;
  std::uint64_t begin = 0, end = 0;
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> tensors;        // in data-offset order
  std::map<std::string, std::string> metadata;  // "__metadata__"
  std::uint64_t data_start = 0;                 // file offset of the buffer: 8 + header length
};

// The header length from the first 8 bytes, checked against the file size.
std::uint64_t safetensors_header_length(std::span<const std::byte> first8, std::uint64_t file_size);
// Parses and checks the header (every rule above) given the file's first 8 + N bytes and its size,
// without reading the tensors' bytes.
SafetensorsHeader parse_safetensors_header(std::span<const std::byte> prefix, std::uint64_t file_size);
// Offsets for tensors written back to back in the given order (begin/end of the input ignored).
std::vector<SafetensorsEntry> layout_safetensors(std::span<const SafetensorsEntry> planned);
// The 8-byte length and the padded JSON header for tensors laid out by layout_safetensors.
std::vector<std::byte> serialize_safetensors_header(std::span<const SafetensorsEntry> tensors,
                                                   const std::map<std::string, std::string>& metadata);

SafetensorsFile parse_safetensors(std::span<const std::byte> bytes);
std::vector<std::byte> serialize_safetensors(const SafetensorsFile& file);

SafetensorsFile read_safetensors(const std::filesystem::path& path);
void write_safetensors(const std::filesystem::path& path, const SafetensorsFile& file);

// Safetensors dtype names ("F32", "BF16", "F8_E4M3", ...); nullopt for our dtypes it lacks (complex128).
// F4, F6_E2M3, F6_E3M2 and F8_E8M0 are refused by name when read.
std::optional<std::string_view> safetensors_dtype(DType t);

}  // namespace twofour::io
