#pragma once
// The inner loop of the channel-swap search (internal to lib). For one candidate channel y and
// kSwapBlock channels x it accumulates, over a range of rows,
//   into_x[i] += sum_r max(mag_y[r], thr_x[i][r])   (y would replace x in x's stripe)
//   into_y[i] += sum_r max(mag_x[i][r], thr_y[r])   (x would replace y in y's stripe)
// where thr_c[r] is the N-th largest magnitude of row r among c's stripe-mates (permutation_swaps.cpp;
// sum max(v, t) - sum t is the sum of relu(v - t) the swap gain needs, at one operation fewer).
// Each sum is kSwapLanes float accumulators, lane l adding rows l, l + 16, ... in order (calls
// cover consecutive row ranges of multiples of kSwapLanes; padding rows are zeros, adding 0),
// folded by fold_lanes(): scalar, AVX2 and AVX-512 results are bit-identical.
#include "twofour/gemm/sparse_gemm.hpp"

#include <cstddef>

namespace twofour::prune::detail {

inline constexpr std::size_t kSwapLanes = 16;
inline constexpr std::size_t kSwapBlock = 8;  // channels x per call

// Exactly kSwapBlock channels x; unused slots point at padded_rows zeros (their sums are unused).
struct SwapBlock {
  const float* thr_x[kSwapBlock];
  const float* mag_x[kSwapBlock];
};

// acc: [2][kSwapBlock][kSwapLanes] floats, into_x then into_y, read and updated; `count` rows (a
// multiple of kSwapLanes) from each pointer.
using SwapGainFn = void (*)(const float* thr_y, const float* mag_y, const SwapBlock& xs, std::size_t count,
                            float* acc);

inline constexpr std::size_t kSwapAccFloats = 2 * kSwapBlock * kSwapLanes;

// One sum's lanes, folded in a fixed order.
float fold_lanes(const float* lanes);

// The kernel for `isa` (resolved like gemm: automatic = gemm::default_isa()); throws
// std::runtime_error for a path the CPU lacks.
SwapGainFn swap_gain_kernel(gemm::Isa isa);

}  // namespace twofour::prune::detail
