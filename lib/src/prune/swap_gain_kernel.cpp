#include "swap_gain_kernel.hpp"

#include <stdexcept>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
// GCC 12 false positive inside avx512fintrin.h's _mm512_max_ps (its unused pass-through operand).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace twofour::prune::detail {
namespace {

// Every path: sum (x, y) keeps kSwapLanes float accumulators, lane l adding rows l, l + 16, ...
// as max(a - b, 0) (no NaN here: |w| is finite), then folds them in the fixed order of fold().
// The SIMD paths only differ in how many sums they carry at once.
float fold(float* acc) {
  for (std::size_t w = kSwapLanes / 2; w > 0; w /= 2)
    for (std::size_t l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0];
}

void gains_scalar(const float* thr_y, const float* mag_y, const SwapBlock& xs, std::size_t rows, float* into_x,
                  float* into_y) {
  for (std::size_t i = 0; i < kSwapBlock; ++i) {
    float ax[kSwapLanes] = {}, ay[kSwapLanes] = {};
    for (std::size_t r = 0; r < rows; r += kSwapLanes)
      for (std::size_t l = 0; l < kSwapLanes; ++l) {
        const float dx = mag_y[r + l] - xs.thr_x[i][r + l];
        const float dy = xs.mag_x[i][r + l] - thr_y[r + l];
        ax[l] += dx > 0.0f ? dx : 0.0f;
        ay[l] += dy > 0.0f ? dy : 0.0f;
      }
    into_x[i] = fold(ax);
    into_y[i] = fold(ay);
  }
}

#if defined(__x86_64__)
// 16 lanes as two halves; four channels x at a time (16 accumulators in the 16 ymm registers).
[[gnu::target("avx2")]] void gains_avx2(const float* thr_y, const float* mag_y, const SwapBlock& xs,
                                        std::size_t rows, float* into_x, float* into_y) {
  constexpr std::size_t kGroup = 4;
  const __m256 zero = _mm256_setzero_ps();
  for (std::size_t i0 = 0; i0 < kSwapBlock; i0 += kGroup) {
    __m256 ax[kGroup][2], ay[kGroup][2];
    for (std::size_t i = 0; i < kGroup; ++i) ax[i][0] = ax[i][1] = ay[i][0] = ay[i][1] = zero;
    for (std::size_t r = 0; r < rows; r += kSwapLanes)
      for (std::size_t h = 0; h < 2; ++h) {
        const __m256 my = _mm256_loadu_ps(mag_y + r + 8 * h), ty = _mm256_loadu_ps(thr_y + r + 8 * h);
        for (std::size_t i = 0; i < kGroup; ++i) {
          const __m256 dx = _mm256_sub_ps(my, _mm256_loadu_ps(xs.thr_x[i0 + i] + r + 8 * h));
          const __m256 dy = _mm256_sub_ps(_mm256_loadu_ps(xs.mag_x[i0 + i] + r + 8 * h), ty);
          ax[i][h] = _mm256_add_ps(ax[i][h], _mm256_max_ps(dx, zero));  // max(d, 0) = d > 0 ? d : 0
          ay[i][h] = _mm256_add_ps(ay[i][h], _mm256_max_ps(dy, zero));
        }
      }
    for (std::size_t i = 0; i < kGroup; ++i) {
      alignas(32) float lx[kSwapLanes], ly[kSwapLanes];
      _mm256_store_ps(lx, ax[i][0]);
      _mm256_store_ps(lx + 8, ax[i][1]);
      _mm256_store_ps(ly, ay[i][0]);
      _mm256_store_ps(ly + 8, ay[i][1]);
      into_x[i0 + i] = fold(lx);
      into_y[i0 + i] = fold(ly);
    }
  }
}

// 16 lanes in one zmm; all eight channels x at once (16 accumulators of 32 registers).
[[gnu::target("avx512f")]] void gains_avx512(const float* thr_y, const float* mag_y, const SwapBlock& xs,
                                             std::size_t rows, float* into_x, float* into_y) {
  const __m512 zero = _mm512_setzero_ps();
  __m512 ax[kSwapBlock], ay[kSwapBlock];
  for (std::size_t i = 0; i < kSwapBlock; ++i) ax[i] = ay[i] = zero;
  for (std::size_t r = 0; r < rows; r += kSwapLanes) {
    const __m512 my = _mm512_loadu_ps(mag_y + r), ty = _mm512_loadu_ps(thr_y + r);
    for (std::size_t i = 0; i < kSwapBlock; ++i) {
      const __m512 dx = _mm512_sub_ps(my, _mm512_loadu_ps(xs.thr_x[i] + r));
      const __m512 dy = _mm512_sub_ps(_mm512_loadu_ps(xs.mag_x[i] + r), ty);
      ax[i] = _mm512_add_ps(ax[i], _mm512_max_ps(dx, zero));
      ay[i] = _mm512_add_ps(ay[i], _mm512_max_ps(dy, zero));
    }
  }
  for (std::size_t i = 0; i < kSwapBlock; ++i) {
    alignas(64) float lx[kSwapLanes], ly[kSwapLanes];
    _mm512_store_ps(lx, ax[i]);
    _mm512_store_ps(ly, ay[i]);
    into_x[i] = fold(lx);
    into_y[i] = fold(ly);
  }
}
#endif

}  // namespace

SwapGainFn swap_gain_kernel(gemm::Isa isa) {
  const gemm::Isa use = isa == gemm::Isa::automatic ? gemm::default_isa() : isa;
  if (!gemm::isa_supported(use))
    throw std::runtime_error("permutation: instruction set '" + std::string(gemm::isa_name(use)) +
                             "' is not supported by this CPU");
  switch (use) {
#if defined(__x86_64__)
    case gemm::Isa::avx512: return &gains_avx512;
    case gemm::Isa::avx2: return &gains_avx2;
#endif
    default: return &gains_scalar;
  }
}

}  // namespace twofour::prune::detail
