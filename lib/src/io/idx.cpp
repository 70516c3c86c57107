#include "twofour/io/idx.hpp"

#include "twofour/io/npy.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

namespace twofour::io {
namespace {

struct IdxType {
  unsigned code;
  DType dtype;
  const char* name;
};
constexpr IdxType kTypes[] = {{0x08, DType::u8, "u8"},   {0x09, DType::i8, "i8"},   {0x0B, DType::i16, "i16"},
                              {0x0C, DType::i32, "i32"}, {0x0D, DType::f32, "f32"}, {0x0E, DType::f64, "f64"}};

std::uint32_t be32(std::span<const std::byte> b, std::size_t at) {
  return (static_cast<std::uint32_t>(b[at]) << 24) | (static_cast<std::uint32_t>(b[at + 1]) << 16) |
         (static_cast<std::uint32_t>(b[at + 2]) << 8) | static_cast<std::uint32_t>(b[at + 3]);
}

bool is_gzip(std::span<const std::byte> bytes) {
  return bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b};
}

}  // namespace

std::vector<std::byte> gunzip(std::span<const std::byte> bytes, std::size_t limit, const std::string& name) {
  std::vector<std::byte> out;
  std::size_t consumed = 0;
  // A gzip file may hold several members back to back (RFC 1952 §2.2); decode them all.
  while (consumed < bytes.size()) {
    const auto rest = bytes.subspan(consumed);
    if (!is_gzip(rest)) {
      if (consumed == 0) throw FormatError(name + ": not a gzip stream");
      throw FormatError(name + ": trailing garbage after the gzip stream at byte " + std::to_string(consumed));
    }
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw FormatError(name + ": zlib inflateInit2 failed");
    // zlib counts in uInt; feed the input in chunks so files over 4 GiB cannot wrap around.
    std::size_t in_at = 0;
    int rc = Z_OK;
    std::byte buffer[1 << 16];
    while (rc != Z_STREAM_END) {
      if (z.avail_in == 0 && in_at < rest.size()) {
        const std::size_t chunk = std::min<std::size_t>(rest.size() - in_at, std::size_t{1} << 30);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(rest.data() + in_at));
        z.avail_in = static_cast<uInt>(chunk);
        in_at += chunk;
      }
      z.next_out = reinterpret_cast<Bytef*>(buffer);
      z.avail_out = sizeof buffer;
      rc = inflate(&z, Z_NO_FLUSH);
      const std::size_t produced = sizeof buffer - z.avail_out;
      if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && produced > 0)) {
        const bool truncated = rc == Z_BUF_ERROR && z.avail_in == 0 && in_at == rest.size();
        inflateEnd(&z);
        throw FormatError(name + (truncated ? ": truncated gzip stream" : ": corrupt gzip stream"));
      }
      if (produced > limit - out.size()) {
        inflateEnd(&z);
        throw FormatError(name + ": decompresses to more than " + std::to_string(limit) + " bytes");
      }
      out.insert(out.end(), buffer, buffer + produced);
    }
    consumed += in_at - z.avail_in;
    inflateEnd(&z);
  }
  return out;
}

Array parse_idx(std::span<const std::byte> bytes, const std::string& name) {
  if (bytes.size() < 4)
    throw FormatError(name + ": " + std::to_string(bytes.size()) + " bytes is too short for an IDX magic number");
  if (bytes[0] != std::byte{0} || bytes[1] != std::byte{0})
    throw FormatError(name + ": bad IDX magic (the first two bytes must be zero; not an IDX file?)");
  const auto type_code = static_cast<unsigned>(bytes[2]);
  const auto* type = std::find_if(std::begin(kTypes), std::end(kTypes), [&](const IdxType& t) { return t.code == type_code; });
  if (type == std::end(kTypes)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", type_code);
    throw FormatError(name + ": unknown IDX element type " + hex + " (0x08 0x09 0x0B 0x0C 0x0D 0x0E)");
  }
  const auto rank = static_cast<std::size_t>(bytes[3]);
  if (rank == 0 || rank > kMaxIdxRank)
    throw FormatError(name + ": IDX rank " + std::to_string(rank) + " (1.." + std::to_string(kMaxIdxRank) + " supported)");
  const std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header) throw FormatError(name + ": truncated IDX header (" + std::to_string(rank) + " dimensions)");
  Array a;
  a.dtype = type->dtype;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::uint32_t n = be32(bytes, 4 + 4 * d);
    if (n == 0) throw FormatError(name + ": IDX dimension " + std::to_string(d) + " is zero");
    a.shape.push_back(n);
  }
  const std::size_t element = dtype_size(a.dtype);
  std::size_t numel = 0;
  try {
    numel = checked_numel(a.shape, element, kMaxIdxBytes);
  } catch (const FormatError& e) {
    throw FormatError(name + ": " + e.what());
  }
  const std::size_t payload = bytes.size() - header;
  if (payload != numel * element) {
    throw FormatError(name + ": IDX dimensions " + [&] {
      std::string s = "(";
      for (std::size_t d = 0; d < rank; ++d) s += (d ? ", " : "") + std::to_string(a.shape[d]);
      return s + ")";
    }() + " need " + std::to_string(numel * element) + " data bytes but the file has " + std::to_string(payload) +
                      (payload < numel * element ? " (truncated)" : " (trailing bytes)"));
  }
  a.data.resize(payload);
  // Big-endian elements to little-endian: reverse each element's bytes.
  const std::byte* src = bytes.data() + header;
  for (std::size_t i = 0; i < numel; ++i)
    for (std::size_t b = 0; b < element; ++b) a.data[i * element + b] = src[i * element + element - 1 - b];
  return a;
}

Array parse_idx_maybe_gzip(std::span<const std::byte> bytes, const std::string& name) {
  if (!is_gzip(bytes)) return parse_idx(bytes, name);
  // The header cap plus the data cap bounds what a hostile stream can make us allocate.
  const auto plain = gunzip(bytes, kMaxIdxBytes + 4 + 4 * kMaxIdxRank, name);
  return parse_idx(plain, name);
}

Array read_idx(const std::filesystem::path& path) {
  const auto bytes = read_file_bytes(path);
  return parse_idx_maybe_gzip(bytes, path.string());
}

}  // namespace twofour::io
