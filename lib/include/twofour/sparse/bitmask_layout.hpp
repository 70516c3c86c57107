#pragma once
// The "sparse-24-bitmask" layout of compressed-tensors (the checkpoint format of llm-compressor
// and vLLM, `Sparse24BitMaskCompressor`): a 2:4 matrix M x K (K % 4 == 0) as
//   values:  M x K/2, the two stored elements of every group of 4, lower column first (the same
//            values as the rowmajor layout of compress.hpp);
//   bitmask: M x ceil(K/8) bytes, bit (c % 8) of byte c / 8 of a row set when column c is stored
//            (NumPy `packbits(mask, axis=-1, bitorder="little")`).
// Every group has exactly two bits set. compressed-tensors picks them with torch.topk of |w|;
// for a group with fewer than two non-zeros the zeros it stores are implementation-defined
// there, and here the positions of the group's metadata nibble (compress.hpp: PyTorch's fixed
// encodings), so a matrix of any 2:4 content round-trips exactly.
#include "twofour/sparse/compress.hpp"

#include <cstddef>
#include <span>
#include <vector>

namespace twofour::sparse {

struct BitmaskCompressed {
  ElementType type = ElementType::f16;
  std::size_t rows = 0, cols = 0;  // the dense shape M x K
  std::vector<std::byte> values;   // rows x cols/2 elements of `type`, little-endian
  std::vector<std::byte> bitmask;  // rows x bitmask_cols(cols) bytes
};

constexpr std::size_t bitmask_cols(std::size_t k) { return (k + 7) / 8; }

// Throws std::invalid_argument as compress() does (not 2:4 unless prune_first, K % 4 != 0).
BitmaskCompressed compress_bitmask(std::span<const std::byte> dense, ElementType type, std::size_t rows,
                                   std::size_t cols, bool prune_first = false);
// The dense matrix back. Throws std::invalid_argument on sizes that do not match or a group of 4
// whose bitmask does not hold exactly two bits (naming row and group).
std::vector<std::byte> decompress_bitmask(const BitmaskCompressed& c);

}  // namespace twofour::sparse
