#pragma once
// IDX files, the format of MNIST and Fashion-MNIST (described on Y. LeCun's MNIST page and the
// Fashion-MNIST README): a 4-byte magic {0, 0, type, rank}, `rank` big-endian u32 dimensions,
// then the elements in C order, big-endian. Types: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32,
// 0x0D f32, 0x0E f64.
//
// Files may be gzip-compressed (detected by the gzip magic 1f 8b, not by the file name). Every
// field is checked: a wrong magic, unknown type, zero rank, a zero dimension, a size that does not
// match the dimensions (short or with trailing bytes), a corrupt gzip stream or an over-large
// file throws FormatError naming the file and the field. Elements come back little-endian in an
// Array (u8, i8, i16, i32, f32, f64).
#include "twofour/io/array.hpp"

#include <filesystem>

namespace twofour::io {

// Decompressed IDX files larger than this are refused (Fashion-MNIST's largest is 47 MB).
inline constexpr std::size_t kMaxIdxBytes = std::size_t{1} << 31;
inline constexpr std::size_t kMaxIdxRank = 8;

// Parses an uncompressed IDX image. `name` (a path) prefixes error messages.
Array parse_idx(std::span<const std::byte> bytes, const std::string& name = "idx");
// Parses an IDX image, gunzipping it first when it starts with the gzip magic.
Array parse_idx_maybe_gzip(std::span<const std::byte> bytes, const std::string& name = "idx");
// Reads a file (gzip or plain). Throws FormatError when it cannot be read or is malformed.
Array read_idx(const std::filesystem::path& path);

// gunzip with a size cap (all gzip members, concatenated). Throws FormatError on a corrupt or
// truncated stream or when the output would exceed `limit` bytes.
std::vector<std::byte> gunzip(std::span<const std::byte> bytes, std::size_t limit, const std::string& name);

}  // namespace twofour::io
