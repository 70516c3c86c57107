#pragma once
// N:M masks (N kept of every M along input channels; see pattern.hpp), transposable 2:4 masks,
// the N:M checker and the kept-L1 measure.
//
// A mask is one byte per weight (1 = kept, 0 = pruned) in the tensor's own C-order layout.
//
// Selection rule (every mask in lib): keep the highest scores; scores are |w| for magnitude
// pruning. Ties are broken by position: the earlier element (lower input channel inside a group,
// lower row-major index inside a block or tensor) is kept. NaN scores count as +infinity, so a
// NaN weight is always kept and stays visible. The rule makes every mask deterministic.
#include "twofour/sparse/pattern.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace twofour::sparse {

using Mask = std::vector<std::uint8_t>;

// Keeps the N highest scores of each group. `scores` holds one value per weight in C order.
// Throws std::invalid_argument for a size mismatch or (Padding::none) C % M != 0.
Mask nm_mask(std::span<const float> scores, const GroupedShape& shape, NMPattern pattern,
             Padding padding = Padding::none);
// nm_mask on |w| (Apex `mn_1d_best`: the best of all keep-N patterns = the N largest |w|).
Mask nm_magnitude_mask(std::span<const float> weights, const GroupedShape& shape, NMPattern pattern,
                       Padding padding = Padding::none);

// Transposable 2:4: every 4x4 block of the ASP view (4 consecutive rows, 4 consecutive input
// channels) holds at most 2 kept per row and per column, so W and W^T are both 2:4.
enum class TransposableMethod {
  best,    // the exact argmax of sum(score * mask) over every 4x4 mask with at most 2 kept per row
           // and column (enumerated: the maximal ones, see transposable_24_maximal_masks()).
           // Apex's 90 exactly-2 patterns can lose to greedy on a block: rows {0,1}, {0,2},
           // {1,2} fill columns 0-2, so the 4th row can keep only column 3 (7 kept, not 8).
  best90,  // the argmax over the 90 patterns with exactly 2 per row and column (Apex
           // `mn_2d_best`); ties: the earlier pattern of transposable_24_patterns()
  greedy,  // scores in descending order, kept while its row and column hold < 2 (Apex
           // `mn_2d_greedy`); may keep fewer than 2 in a row
};
// Throws std::invalid_argument unless rows % 4 == 0 (output channels K % 4 == 0 for a
// convolution) and C % 4 == 0.
Mask transposable_24_mask(std::span<const float> scores, const GroupedShape& shape, TransposableMethod method);

// The 90 4x4 0/1 patterns (row-major, 16 entries) with two ones in every row and column, in
// lexicographic order of their rows' bit patterns.
const std::array<std::array<std::uint8_t, 16>, 90>& transposable_24_patterns();
// Every 4x4 mask with at most 2 ones per row and column that no other such mask contains
// (the candidates for the exact best with non-negative scores), the 90 patterns first.
const std::vector<std::array<std::uint8_t, 16>>& transposable_24_maximal_masks();

// Result of an N:M check.
struct NMCheck {
  bool ok = true;
  std::size_t groups = 0;        // groups examined
  std::size_t bad_groups = 0;    // groups with more than N non-zeros
  std::size_t first_row = 0, first_col = 0;  // first bad group in the ASP view (when !ok)
  std::size_t first_nonzeros = 0;
  std::string message;           // names the first bad group; empty when ok
};
// Checks that every group holds at most N non-zero flags. Groups are scanned in C order of their
// first element (output channel, then input channel, then kernel position). Padding::none with
// C % M != 0 is reported as not N:M (message names the shape).
NMCheck check_nm(std::span<const std::uint8_t> nonzero, const GroupedShape& shape, NMPattern pattern,
                 Padding padding = Padding::none);
// Same on weights: non-zero means w != 0 (so -0.0 is zero and NaN is non-zero).
NMCheck check_nm(std::span<const float> weights, const GroupedShape& shape, NMPattern pattern,
                 Padding padding = Padding::none);
// Every 4x4 block has at most 2 kept per row and per column.
NMCheck check_transposable_24(std::span<const std::uint8_t> nonzero, const GroupedShape& shape);

// sum(|w| * mask) / sum(|w|): the share of L1 magnitude a mask keeps (1 for an all-zero tensor).
double kept_l1_fraction(std::span<const float> weights, std::span<const std::uint8_t> mask);

// Zeroes the pruned weights in place.
void apply_mask(std::span<float> weights, std::span<const std::uint8_t> mask);

}  // namespace twofour::sparse
