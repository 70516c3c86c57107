#include "twofour/sparse/bitmask_layout.hpp"

#include "twofour/sparse/rowmajor_layout.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace twofour::sparse {

BitmaskCompressed compress_bitmask(std::span<const std::byte> dense, ElementType type, std::size_t rows,
                                   std::size_t cols, bool prune_first) {
  // The one compressor picks the stored positions; the bitmask only re-encodes its nibbles.
  Compressed c = compress(dense, type, rows, cols, MetaLayout::rowmajor, prune_first);
  BitmaskCompressed out;
  out.type = type;
  out.rows = rows;
  out.cols = cols;
  out.values = std::move(c.values);
  out.bitmask.assign(rows * bitmask_cols(cols), std::byte{0});
  const std::size_t words = meta_words_per_row(cols);
  std::vector<std::uint16_t> row_meta(words);  // metadata bytes are little-endian uint16 words
  for (std::size_t r = 0; r < rows; ++r) {
    std::memcpy(row_meta.data(), c.metadata.data() + r * words * 2, words * 2);
    for (std::size_t g = 0; g < cols / kGroupSize; ++g) {
      const unsigned nib = meta_nibble(row_meta.data(), g);
      for (unsigned idx : {nibble_idx0(nib), nibble_idx1(nib)}) {
        const std::size_t col = kGroupSize * g + idx;
        out.bitmask[r * bitmask_cols(cols) + col / 8] |= static_cast<std::byte>(1u << (col % 8));
      }
    }
  }
  return out;
}

std::vector<std::byte> decompress_bitmask(const BitmaskCompressed& c) {
  const std::size_t eb = element_bytes(c.type);
  if (c.rows == 0 || c.cols == 0 || c.cols % kGroupSize != 0)
    throw std::invalid_argument("a " + std::to_string(c.rows) + " x " + std::to_string(c.cols) +
                                " matrix in the sparse-24-bitmask layout: K must be a non-zero multiple of 4");
  if (c.values.size() != c.rows * (c.cols / 2) * eb)
    throw std::invalid_argument("values hold " + std::to_string(c.values.size()) + " bytes, expected " +
                                std::to_string(c.rows * (c.cols / 2) * eb));
  const std::size_t bcols = bitmask_cols(c.cols);
  if (c.bitmask.size() != c.rows * bcols)
    throw std::invalid_argument("bitmask holds " + std::to_string(c.bitmask.size()) + " bytes, expected " +
                                std::to_string(c.rows * bcols) + " (" + std::to_string(c.rows) + " x " +
                                std::to_string(bcols) + ")");
  std::vector<std::byte> dense(c.rows * c.cols * eb, std::byte{0});
  for (std::size_t r = 0; r < c.rows; ++r) {
    const std::byte* value = c.values.data() + r * (c.cols / 2) * eb;
    for (std::size_t g = 0; g < c.cols / kGroupSize; ++g) {
      const std::size_t col0 = kGroupSize * g;
      const unsigned bits =
          (std::to_integer<unsigned>(c.bitmask[r * bcols + col0 / 8]) >> (col0 % 8)) & 0xfu;  // 4 | 8: one byte
      if (std::popcount(bits) != 2)
        throw std::invalid_argument("bitmask of row " + std::to_string(r) + ", group " + std::to_string(g) +
                                    " (columns " + std::to_string(col0) + ".." + std::to_string(col0 + 3) + ") has " +
                                    std::to_string(std::popcount(bits)) + " bits set, not 2");
      for (unsigned i = 0; i < 4; ++i)
        if (bits & (1u << i)) {
          std::memcpy(dense.data() + (r * c.cols + col0 + i) * eb, value, eb);
          value += eb;
        }
    }
  }
  return dense;
}

}  // namespace twofour::sparse
