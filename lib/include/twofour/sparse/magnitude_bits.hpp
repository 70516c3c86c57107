#pragma once
// Magnitude N:M masks straight from stored bits, for streaming large checkpoints: in a
// sign-magnitude float format (bf16, fp16, fp32, fp64, fp8 e4m3 / e5m2) |x| orders finite values
// exactly as the unsigned integer of x's bits without the sign bit, so no decoding is needed.
// The mask is the one nm_magnitude_mask (mask.hpp) gives on the decoded values: the N largest |w|
// of every group of M along a row, ties to the lower column (tested against it).
#include "twofour/sparse/mask.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace twofour::sparse {

// `bytes`: rows x cols elements of `element_size` (1, 2, 4 or 8) bytes; `sign_bit` the sign mask;
// `non_finite_from`: the smallest magnitude pattern that is infinite or NaN (the exponent all
// ones), checked first; ~0 (more than the element holds) turns the check off. Returns the flat index of the first non-finite element instead of a mask
// when there is one. Throws std::invalid_argument when cols % M != 0 or sizes disagree.
struct BitsMaskResult {
  Mask mask;
  std::optional<std::size_t> first_non_finite;
};
BitsMaskResult nm_magnitude_mask_bits(std::span<const std::byte> bytes, std::size_t rows, std::size_t cols, std::size_t element_size,
                                      std::uint64_t sign_bit, std::uint64_t non_finite_from, NMPattern pattern);

}  // namespace twofour::sparse
