#pragma once
// The 64-bit shared-memory matrix descriptor of wgmma and the shared-memory byte each element of
// a descriptor operand occupies (K-major canonical layouts, the four swizzle modes).
//
// Source: PTX ISA 9.1 §9.7.15, subsections "Matrix Descriptor Format" and the canonical shared-memory
// layouts of "Shared Memory Matrix Layout"; docs/wgmma.md restates them with hand-computed cases.
//   bits  0-13  start address >> 4          bits 16-29  leading dimension byte offset (LBO) >> 4
//   bits 32-45  stride dimension byte offset (SBO) >> 4
//   bits 49-51  matrix base offset          bits 62-63  swizzle: 0 none, 1 128B, 2 64B, 3 32B
// Every other bit is reserved (0).
//
// A K-major operand is a set of rows (M rows of A, N rows of B), each holding the operand's K
// elements contiguously. Rows are grouped by 8 ("core matrices"):
//  - no swizzle: a core matrix is 8 rows x 16 bytes stored as 128 contiguous bytes (row r at 16r);
//    the next 16 bytes of K are LBO further, the next 8 rows SBO further;
//  - 32B / 64B / 128B swizzle: row r of an 8-row group starts W r bytes after the group (W = 32,
//    64 or 128), the whole K extent lies inside that row, groups are SBO apart, and the 16-byte
//    chunk index of the address (bits 4..) is XORed with address bits 7.. (1, 2 or 3 bits). The
//    XOR acts on the address itself, so a start address inside a swizzle atom (how kernels step
//    along K) stays consistent.
#include "twofour/sim/spec/instruction.hpp"

#include <cstdint>

namespace twofour::sim::spec {

enum class Swizzle : std::uint8_t { none = 0, b128 = 1, b64 = 2, b32 = 3 };  // the field's encoding

constexpr int swizzle_bytes(Swizzle s) {  // row width W of a swizzled layout; 16 for none
  switch (s) {
    case Swizzle::none: return 16;
    case Swizzle::b32: return 32;
    case Swizzle::b64: return 64;
    case Swizzle::b128: return 128;
  }
  return 16;
}

constexpr const char* swizzle_name(Swizzle s) {
  switch (s) {
    case Swizzle::none: return "none";
    case Swizzle::b32: return "32B";
    case Swizzle::b64: return "64B";
    case Swizzle::b128: return "128B";
  }
  return "?";
}

struct MatrixDescriptor {
  std::uint32_t start = 0;  // byte address in shared memory (a multiple of 16)
  std::uint32_t lbo = 0;    // leading dimension byte offset (a multiple of 16)
  std::uint32_t sbo = 0;    // stride dimension byte offset (a multiple of 16)
  int base_offset = 0;      // 0..7
  Swizzle swizzle = Swizzle::none;
};

inline constexpr std::uint64_t kDescriptorReservedMask =
    ~((0x3fffull) | (0x3fffull << 16) | (0x3fffull << 32) | (0x7ull << 49) | (0x3ull << 62));

constexpr std::uint64_t encode_descriptor(const MatrixDescriptor& d) {
  return (static_cast<std::uint64_t>((d.start >> 4) & 0x3fffu)) |
         (static_cast<std::uint64_t>((d.lbo >> 4) & 0x3fffu) << 16) |
         (static_cast<std::uint64_t>((d.sbo >> 4) & 0x3fffu) << 32) |
         (static_cast<std::uint64_t>(d.base_offset & 7) << 49) | (static_cast<std::uint64_t>(d.swizzle) << 62);
}

constexpr MatrixDescriptor decode_descriptor(std::uint64_t bits) {
  MatrixDescriptor d;
  d.start = static_cast<std::uint32_t>(bits & 0x3fffu) << 4;
  d.lbo = static_cast<std::uint32_t>((bits >> 16) & 0x3fffu) << 4;
  d.sbo = static_cast<std::uint32_t>((bits >> 32) & 0x3fffu) << 4;
  d.base_offset = static_cast<int>((bits >> 49) & 7u);
  d.swizzle = static_cast<Swizzle>((bits >> 62) & 3u);
  return d;
}

// The XOR of a swizzle mode applied to a shared-memory byte address.
constexpr std::uint32_t swizzle_address(Swizzle s, std::uint32_t address) {
  const std::uint32_t mask = static_cast<std::uint32_t>(swizzle_bytes(s) / 16 - 1);  // 0, 1, 3 or 7
  return address ^ (((address >> 7) & mask) << 4);
}

// Byte address of element (row, k) of a K-major operand whose elements are `element_bytes` wide
// (row = m of A or n of B; k along K, stored K for a sparse A). The caller checks that k's bytes
// fit the swizzle row (k_fits_swizzle_row).
constexpr std::uint32_t k_major_address(const MatrixDescriptor& d, int element_bytes, int row, int k) {
  const auto r = static_cast<std::uint32_t>(row), byte = static_cast<std::uint32_t>(k * element_bytes);
  if (d.swizzle == Swizzle::none)
    return d.start + (r / 8) * d.sbo + (byte / 16) * d.lbo + (r % 8) * 16 + byte % 16;
  const auto width = static_cast<std::uint32_t>(swizzle_bytes(d.swizzle));
  return swizzle_address(d.swizzle, d.start + (r / 8) * d.sbo + (r % 8) * width + byte);
}

constexpr bool k_fits_swizzle_row(Swizzle s, int k_extent, int element_bytes) {
  return s == Swizzle::none || k_extent * element_bytes <= swizzle_bytes(s);
}

// The canonical descriptor of a K-major operand of `rows` x `k_extent` elements stored from
// `start`, densely packed: no swizzle puts the K chunks of a core matrix next to each other
// (LBO = 128) and 8-row groups after all of them; a swizzle packs 8-row groups of W-byte rows.
constexpr MatrixDescriptor canonical_k_major(Swizzle s, std::uint32_t start, int k_extent, int element_bytes) {
  MatrixDescriptor d;
  d.start = start;
  d.swizzle = s;
  const auto row_bytes = static_cast<std::uint32_t>(k_extent * element_bytes);
  if (s == Swizzle::none) {
    d.lbo = 128;
    d.sbo = 128 * ((row_bytes + 15) / 16);
  } else {
    d.lbo = 16;  // ignored by the K-major swizzled layouts (the K extent lies in one row)
    d.sbo = 8 * static_cast<std::uint32_t>(swizzle_bytes(s));
  }
  return d;
}

// Bytes per element of an operand as it sits in shared memory (tf32 in a 32-bit container).
constexpr int shared_element_bytes(const FormatSpec& f) { return f.container_bits / 8; }

}  // namespace twofour::sim::spec
