#pragma once
// The `sparse-24-bitmask` layout of compressed-tensors (facts and source: docs/checkpoints.md).
// A 2-D weight of rows x cols (cols % 4 == 0) is stored as
//   values  : rows x cols/2 elements of the weight's dtype, each row's kept elements in column order;
//   bitmask : rows x ceil(cols/8) bytes, bit (c % 8) of byte c / 8 set when column c is kept
//             (lowest column in the least significant bit; unused high bits of the last byte 0).
// Every group of 4 columns keeps exactly 2 positions. A group with fewer than 2 non-zero values
// also keeps zeros: first any -0.0 (so its bits survive the round trip), then the lowest +0.0.
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace twofour::sparse {

// A group that does not fit the layout, located in the dense view.
struct Bitmask24Error : std::invalid_argument {
  Bitmask24Error(const std::string& what, std::size_t row_, std::size_t group_)
      : std::invalid_argument(what), row(row_), group(group_) {}
  std::size_t row, group;
};

struct Bitmask24 {
  std::vector<std::byte> values;     // rows * cols/2 * element_size
  std::vector<std::uint8_t> bitmask;  // rows * ceil(cols/8)
};

inline std::size_t bitmask24_row_bytes(std::size_t cols) { return (cols + 7) / 8; }

// Throws Bitmask24Error at the first group with more than 2 non-zero values (zeros of either
// sign count as zero; `sign_bit` is one element's sign mask, 0 for integers), and
// std::invalid_argument when cols % 4 != 0 or the sizes disagree.
Bitmask24 compress_bitmask24(std::span<const std::byte> dense, std::size_t rows, std::size_t cols,
                             std::size_t element_size, std::uint64_t sign_bit);

// The dense bytes (unkept positions +0). Throws Bitmask24Error for a group whose bitmask does
// not hold exactly 2 bits or for set padding bits, and std::invalid_argument when sizes disagree.
std::vector<std::byte> decompress_bitmask24(std::span<const std::byte> values, std::span<const std::uint8_t> bitmask,
                                            std::size_t rows, std::size_t cols, std::size_t element_size);

}  // namespace twofour::sparse
