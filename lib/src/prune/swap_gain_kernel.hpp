#pragma once
// The inner loop of the channel-swap search (internal to lib): for one candidate channel y and a
// few channels x, the two sums over rows that a swap of x and y adds to the kept magnitude,
//   into_x[i] = sum_r max(mag_y[r] - thr_x[i][r], 0)   (y replaces x in x's stripe)
//   into_y[i] = sum_r max(mag_x[i][r] - thr_y[r], 0)   (x replaces y in y's stripe)
// where thr_c[r] is the N-th largest magnitude of row r among c's stripe-mates (permutation_swaps.cpp).
// Rows are padded to a multiple of kSwapLanes with zeros in both arrays (adding exactly 0). Every
// path sums in kSwapLanes float accumulators, lane l taking rows l, l + 16, ..., reduced in one
// fixed order, so scalar, AVX2 and AVX-512 results are bit-identical.
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

using SwapGainFn = void (*)(const float* thr_y, const float* mag_y, const SwapBlock& xs, std::size_t padded_rows,
                            float* into_x, float* into_y);

// The kernel for `isa` (resolved like gemm: automatic = gemm::default_isa()); throws
// std::runtime_error for a path the CPU lacks.
SwapGainFn swap_gain_kernel(gemm::Isa isa);

}  // namespace twofour::prune::detail
