#pragma once
// NumPy .npy files (format spec: numpy.lib.format, versions 1.0, 2.0 and 3.0).
//
// Reading accepts every numeric dtype ('b1', 'i1'..'i8', 'u1'..'u8', 'f2', 'f4', 'f8', 'c8', 'c16')
// in little- or big-endian order (converted to little-endian) and C or Fortran order (converted to
// C order). Every header field is bounds-checked: a malformed, truncated or hostile file throws
// FormatError, never crashes. Writing produces version 1.0 (2.0 when the header needs it), C
// order, little-endian, header padded to 64 bytes; bf16 is written as '<u2' (see array.hpp).
#include "twofour/io/array.hpp"
#include "twofour/io/input_file.hpp"  // read_file_bytes

#include <filesystem>

namespace twofour::io {

// Headers larger than this are refused (NumPy's own default limit is 10000 bytes).
inline constexpr std::size_t kMaxNpyHeader = 1u << 20;

Array parse_npy(std::span<const std::byte> bytes);
std::vector<std::byte> serialize_npy(const Array& a);

Array read_npy(const std::filesystem::path& path);
void write_npy(const std::filesystem::path& path, const Array& a);  // atomic

}  // namespace twofour::io
