// AVX-512 build of the kernels (compiled with -mavx512f -mavx2 -mfma -mf16c; only
// reached when the CPU reports those features).
// GCC 12 reports its own AVX-512 intrinsics (which start from _mm512_undefined_*()) as using
// uninitialised values once inlined; the warning is about the header, not this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <xsimd/xsimd.hpp>

#include "half.hpp"
#include "kernels.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

namespace twofour::gemm::detail::avx512 {
namespace {

struct V {
  using batch = xsimd::batch<float, xsimd::avx512f>;
  using reg = __m512;
  using ireg = __m512i;
  static constexpr int kWidth = 16;
  static reg load(const float* p) { return batch::load_unaligned(p); }
  static void store(float* p, reg r) { batch(r).store_unaligned(p); }
  static reg broadcast(float x) { return batch(x); }
  static reg zero() { return batch(0.0f); }
  // xsimd 8.1 has no fused multiply-add for avx512f (its generic fma is x*y+z), so call it here.
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }

  static std::uint32_t chunk_meta(const std::uint16_t* row_meta, std::size_t chunk) {
    std::uint32_t bits = 0;  // 8 groups = 2 metadata words
    std::memcpy(&bits, row_meta + 2 * chunk, sizeof bits);
    return bits;
  }
  static ireg indices(std::uint32_t bits) {
    const __m512i shifts = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i base = _mm512_setr_epi32(0, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28);
    const __m512i fields = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32(static_cast<int>(bits)), shifts),
                                            _mm512_set1_epi32(3));
    return _mm512_add_epi32(fields, base);
  }
  static reg select(reg lo, reg hi, ireg idx) { return _mm512_permutex2var_ps(lo, idx, hi); }
  template <ValueKind KIND>
  static reg load_values(const void* values, std::size_t i) {
    if constexpr (KIND == ValueKind::fp32) {
      return load(static_cast<const float*>(values) + i);
    } else {
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::uint16_t*>(values) + i));
      if constexpr (KIND == ValueKind::fp16) {
        return _mm512_cvtph_ps(h);  // exact widening (F16C semantics)
      } else {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
      }
    }
  }
  static float hsum(reg r) { return _mm512_reduce_add_ps(r); }
  // t[j] = p[j] + p[j+8], then + [j+4], + [j+2], + [j+1]: the order of sampled_gemm.hpp.
  static float tree_from_8(__m256 t8) {
    const __m128 t4 = _mm_add_ps(_mm256_castps256_ps128(t8), _mm256_extractf128_ps(t8, 1));
    const __m128 t2 = _mm_add_ps(t4, _mm_movehl_ps(t4, t4));
    return _mm_cvtss_f32(_mm_add_ss(t2, _mm_movehdup_ps(t2)));
  }
  static float lane_tree_sum(const reg* p) {
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(p[0]), 1));
    return tree_from_8(_mm256_add_ps(_mm512_castps512_ps256(p[0]), hi));
  }
  // Four trees at once, each addition the same as lane_tree_sum's (a + b of the same lanes):
  // halves of 16 -> [A8 | B8] and [C8 | D8]; quarters -> [A4 | B4 | C4 | D4]; then within each
  // 128-bit lane j + 2 and j + 1. out[u] = lane 4u.
  static void lane_tree_sum4(const reg (*acc)[1], float* out) {
    const __m512 a = acc[0][0], b = acc[1][0], c = acc[2][0], d = acc[3][0];
    const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xee));
    const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xee));
    const __m512 t4 = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xdd));
    const __m512 t2 = _mm512_add_ps(t4, _mm512_shuffle_ps(t4, t4, 0xee));
    const __m512 t1 = _mm512_add_ps(t2, _mm512_shuffle_ps(t2, t2, 0x55));
    const __m128 r = _mm512_castps512_ps128(_mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), t1));
    _mm_storeu_ps(out, r);
  }
  // kernels_dense.inl's lane finish in registers: the tail products by a masked fused
  // multiply-add (lanes >= tail keep their value exactly), then lane l += lane l + w for
  // w = 8, 4, 2, 1, each step adding the upper half of the live lanes to the lower half.
  static float finish_lanes(reg acc, const float* a, const float* b, std::size_t tail) {
    if (tail > 0) {
      const __mmask16 m = static_cast<__mmask16>((1u << tail) - 1u);
      acc = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(m, a), _mm512_maskz_loadu_ps(m, b), acc, m);
    }
    const __m256 h8 = _mm256_add_ps(_mm512_castps512_ps256(acc), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
    const __m128 h4 = _mm_add_ps(_mm256_castps256_ps128(h8), _mm256_extractf128_ps(h8, 1));
    const __m128 h2 = _mm_add_ps(h4, _mm_movehl_ps(h4, h4));
    const __m128 h1 = _mm_add_ss(h2, _mm_shuffle_ps(h2, h2, 1));
    return _mm_cvtss_f32(h1);
  }
};

#include "kernels_gemm.inl"
#include "kernels_nm.inl"
#include "kernels_sampled.inl"
#include "kernels_dense.inl"
#include "kernels_smalln.inl"

}  // namespace

const KernelTable& table() {
  // Wide: 6 x 64 tile, 24 zmm accumulators. K block 256: the 256 x 64 strip (64 KB) is larger
  // than L1, but a micro-panel touches only its rows' kept B rows, and fewer, longer tile calls
  // halve the C tile reloads; measured on Zen 4 (1024^2 and 2048^2, median CPU time): K block
  // 64 -> 20.5 ms, 128 -> 17.4-17.9 ms, 256 -> 16.4-16.7 ms, and 4 x 96, 8 x 48, 3 x 128 tiles
  // no better.
  static const KernelTable t{{6, 64, 256, &gemm_tile<V, 6, 4>}, &small_n<V>, V::kWidth, &nm_rows<V>,
                                 {8, 48, &dense_tile<V, 8, 3>},
                                 {4, 4, &dot_tile<V, 4, 4>, &dot_tile<V, 1, 1>},
                                 &sampled_rows<V>};
  return t;
}

}  // namespace twofour::gemm::detail::avx512
