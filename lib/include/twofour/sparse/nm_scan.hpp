#pragma once
// N:M conformance of a stored 2-D tensor, straight from its bytes (any element size 1, 2, 4 or
// 8): rows are the output dim, groups are M consecutive elements of a row (the input dim), and a
// group conforms when at most N of its elements are non-zero ("N:M" = N kept of every M).
//
// Zero means zero of either sign: for floating dtypes every bit but the sign bit is 0. A -0.0
// is still reported, because a kernel that builds its metadata from bit patterns (value != 0
// as an integer) sees it as non-zero: `bitwise_bad_groups` counts the groups that conform by
// value but not by bit pattern.
#include "twofour/sparse/pattern.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace twofour::sparse {

struct NMScan {
  std::size_t elements = 0;
  std::size_t zeros = 0;           // either sign
  std::size_t negative_zeros = 0;  // -0.0 bit patterns (floating dtypes only)
  std::size_t groups = 0;
  std::size_t bad_groups = 0;          // more than N non-zero values
  std::size_t bitwise_bad_groups = 0;  // conforming by value, more than N non-zero bit patterns
  // The first bad group in row-major order (valid when bad_groups > 0).
  std::size_t first_row = 0, first_group = 0, first_nonzeros = 0;
  bool ok() const { return bad_groups == 0; }
};

// `bytes` holds rows x cols elements of `element_size` bytes; `sign_bit` is the sign mask of one
// element (0 for integers). cols % pattern.m must be 0. Throws std::invalid_argument otherwise.
NMScan scan_nm(std::span<const std::byte> bytes, std::size_t rows, std::size_t cols, std::size_t element_size,
               std::uint64_t sign_bit, NMPattern pattern);

// Zero and -0.0 counts of any tensor (no grouping).
NMScan count_zeros(std::span<const std::byte> bytes, std::size_t element_size, std::uint64_t sign_bit);

}  // namespace twofour::sparse
