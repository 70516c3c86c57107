#pragma once
// Internal: the metadata check of the 2:4 GEMM (internal linkage: included by the translation
// unit of each instruction set, where the compiler vectorises the word loop with that set).
//
// 16 nibbles at a time: d = (idx1 | 4) - idx0 per nibble is 1..7 with no borrow across
// nibbles, and idx1 > idx0 exactly when d >= 5, i.e. bit 2 set and bits 0-1 not both clear.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "twofour/sparse/rowmajor_layout.hpp"

namespace twofour::gemm::detail {
namespace {

constexpr std::uint64_t kNibble3 = 0x3333333333333333ull;
constexpr std::uint64_t kNibble4 = 0x4444444444444444ull;
constexpr std::uint64_t kNibble1 = 0x1111111111111111ull;

// Bit 0 of each nibble of the result: that nibble of `word` is valid (idx0 < idx1).
constexpr std::uint64_t valid_nibbles(std::uint64_t word) {
  const std::uint64_t idx0 = word & kNibble3;
  const std::uint64_t idx1 = (word >> 2) & kNibble3;
  const std::uint64_t d = (idx1 | kNibble4) - idx0;
  return ((d & kNibble4) >> 2) & ((d | (d >> 1)) & kNibble1);
}

// Whether every used nibble of one row (K columns) is valid; the unused nibbles of a partial
// last word are ignored. Branch-free over the full 64-bit blocks (a vectorised reduction).
inline bool row_metadata_valid(const std::uint16_t* meta, std::size_t k) {
  const std::size_t groups = k / 4;
  const std::size_t full = groups / 16;  // 64-bit blocks of 16 used nibbles
  std::uint64_t bad = 0;
  for (std::size_t i = 0; i < full; ++i) {
    std::uint64_t word = 0;
    std::memcpy(&word, meta + 4 * i, sizeof word);
    bad |= ~valid_nibbles(word) & kNibble1;
  }
  if (full * 16 < groups) {
    const std::size_t tail = groups - full * 16;  // 1..15 nibbles in the last 1..4 words
    std::uint64_t word = 0;
    std::memcpy(&word, meta + 4 * full, (sparse::meta_words_per_row(k) - 4 * full) * sizeof(std::uint16_t));
    bad |= ~valid_nibbles(word) & kNibble1 & ((std::uint64_t{1} << (4 * tail)) - 1);
  }
  return bad == 0;
}

// The first row in [row_begin, row_end) with a malformed nibble, or row_end.
inline std::size_t first_bad_metadata_row(const std::uint16_t* meta, std::size_t row_begin, std::size_t row_end,
                                          std::size_t k) {
  const std::size_t mw = sparse::meta_words_per_row(k);
  for (std::size_t row = row_begin; row < row_end; ++row)
    if (!row_metadata_valid(meta + row * mw, k)) return row;
  return row_end;
}

}  // namespace
}  // namespace twofour::gemm::detail
