#include "swap_gain_kernel.hpp"

#include <stdexcept>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
// GCC 12 false positive inside avx512fintrin.h's _mm512_max_ps (its unused pass-through operand).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace twofour::prune::detail {

float fold_lanes(const float* lanes) {
  float acc[kSwapLanes];
  for (std::size_t l = 0; l < kSwapLanes; ++l) acc[l] = lanes[l];
  for (std::size_t w = kSwapLanes / 2; w > 0; w /= 2)
    for (std::size_t l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0];
}

namespace {

// max(a, b) as the SIMD max instructions define it: a > b ? a : b (no NaN here: |w| is finite).
inline float max_like_simd(float a, float b) { return a > b ? a : b; }

void gains_scalar(const float* thr_y, const float* mag_y, const SwapBlock& xs, std::size_t count, float* acc) {
  for (std::size_t i = 0; i < kSwapBlock; ++i) {
    float* ax = acc + i * kSwapLanes;
    float* ay = acc + (kSwapBlock + i) * kSwapLanes;
    for (std::size_t r = 0; r < count; r += kSwapLanes)
      for (std::size_t l = 0; l < kSwapLanes; ++l) {
        ax[l] += max_like_simd(mag_y[r + l], xs.thr_x[i][r + l]);
        ay[l] += max_like_simd(xs.mag_x[i][r + l], thr_y[r + l]);
      }
  }
}

#if defined(__x86_64__)
// 16 lanes as two halves; four channels x at a time (16 accumulators in the 16 ymm registers).
[[gnu::target("avx2")]] void gains_avx2(const float* thr_y, const float* mag_y, const SwapBlock& xs,
                                        std::size_t count, float* acc) {
  constexpr std::size_t kGroup = 4;
  for (std::size_t i0 = 0; i0 < kSwapBlock; i0 += kGroup) {
    __m256 ax[kGroup][2], ay[kGroup][2];
    for (std::size_t i = 0; i < kGroup; ++i)
      for (std::size_t h = 0; h < 2; ++h) {
        ax[i][h] = _mm256_loadu_ps(acc + (i0 + i) * kSwapLanes + 8 * h);
        ay[i][h] = _mm256_loadu_ps(acc + (kSwapBlock + i0 + i) * kSwapLanes + 8 * h);
      }
    for (std::size_t r = 0; r < count; r += kSwapLanes)
      for (std::size_t h = 0; h < 2; ++h) {
        const __m256 my = _mm256_loadu_ps(mag_y + r + 8 * h), ty = _mm256_loadu_ps(thr_y + r + 8 * h);
        for (std::size_t i = 0; i < kGroup; ++i) {
          ax[i][h] = _mm256_add_ps(ax[i][h], _mm256_max_ps(my, _mm256_loadu_ps(xs.thr_x[i0 + i] + r + 8 * h)));
          ay[i][h] = _mm256_add_ps(ay[i][h], _mm256_max_ps(_mm256_loadu_ps(xs.mag_x[i0 + i] + r + 8 * h), ty));
        }
      }
    for (std::size_t i = 0; i < kGroup; ++i)
      for (std::size_t h = 0; h < 2; ++h) {
        _mm256_storeu_ps(acc + (i0 + i) * kSwapLanes + 8 * h, ax[i][h]);
        _mm256_storeu_ps(acc + (kSwapBlock + i0 + i) * kSwapLanes + 8 * h, ay[i][h]);
      }
  }
}

// 16 lanes in one zmm; all eight channels x at once (16 accumulators of 32 registers).
[[gnu::target("avx512f")]] void gains_avx512(const float* thr_y, const float* mag_y, const SwapBlock& xs,
                                             std::size_t count, float* acc) {
  __m512 ax[kSwapBlock], ay[kSwapBlock];
  for (std::size_t i = 0; i < kSwapBlock; ++i) {
    ax[i] = _mm512_loadu_ps(acc + i * kSwapLanes);
    ay[i] = _mm512_loadu_ps(acc + (kSwapBlock + i) * kSwapLanes);
  }
  for (std::size_t r = 0; r < count; r += kSwapLanes) {
    const __m512 my = _mm512_loadu_ps(mag_y + r), ty = _mm512_loadu_ps(thr_y + r);
    for (std::size_t i = 0; i < kSwapBlock; ++i) {
      ax[i] = _mm512_add_ps(ax[i], _mm512_max_ps(my, _mm512_loadu_ps(xs.thr_x[i] + r)));
      ay[i] = _mm512_add_ps(ay[i], _mm512_max_ps(_mm512_loadu_ps(xs.mag_x[i] + r), ty));
    }
  }
  for (std::size_t i = 0; i < kSwapBlock; ++i) {
    _mm512_storeu_ps(acc + i * kSwapLanes, ax[i]);
    _mm512_storeu_ps(acc + (kSwapBlock + i) * kSwapLanes, ay[i]);
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
