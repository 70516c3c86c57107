#pragma once
// NumPy .npz archives: a ZIP file (PKWARE APPNOTE 6.3) of NAME.npy members, stored or deflated
// (numpy.savez / savez_compressed), with ZIP64 extra fields when present. Reads validate every
// offset and size against the file, the compression ratio (deflate cannot exceed ~1032:1) and
// the CRC-32 of each member. Writes are atomic.
#include "twofour/io/array.hpp"

#include <filesystem>
#include <utility>

namespace twofour::io {

using NamedArrays = std::vector<std::pair<std::string, Array>>;

// Members in archive order, names without the ".npy" suffix.
NamedArrays parse_npz(std::span<const std::byte> bytes);
std::vector<std::byte> serialize_npz(const NamedArrays& arrays, bool compress = false);

NamedArrays read_npz(const std::filesystem::path& path);
void write_npz(const std::filesystem::path& path, const NamedArrays& arrays, bool compress = false);

}  // namespace twofour::io
