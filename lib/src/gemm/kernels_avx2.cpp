// AVX2 build of the kernels (compiled with -mavx2 -mfma -mf16c; only reached when the CPU reports
// those features).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <xsimd/xsimd.hpp>

#include "half.hpp"
#include "kernels.hpp"
#include "round_half.hpp"
#include "validate_meta.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

namespace twofour::gemm::detail::avx2 {
namespace {

struct V {
  using batch = xsimd::batch<float, xsimd::fma3<xsimd::avx2>>;
  using reg = __m256;
  using ireg = __m256i;
  static constexpr int kWidth = 8;
  static reg load(const float* p) { return batch::load_unaligned(p); }
  static void store(float* p, reg r) { batch(r).store_unaligned(p); }
  static reg broadcast(float x) { return batch(x); }
  static reg zero() { return batch(0.0f); }
  static reg fmadd(reg a, reg b, reg c) { return xsimd::fma(batch(a), batch(b), batch(c)); }  // vfmadd

  static std::uint32_t chunk_meta(const std::uint16_t* row_meta, std::size_t chunk) {
    return row_meta[chunk];  // 4 groups = 1 metadata word
  }
  static ireg indices(std::uint32_t bits) {
    const __m256i shifts = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i base = _mm256_setr_epi32(0, 0, 4, 4, 8, 8, 12, 12);
    const __m256i fields =
        _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(bits)), shifts), _mm256_set1_epi32(3));
    return _mm256_add_epi32(fields, base);
  }
  // No two-source permute in AVX2: permute both halves (vpermps reads the low 3 index bits, so
  // indices 8..15 address hi directly) and keep lanes 0-3 from lo, 4-7 from hi (groups 0,1
  // live in lo, groups 2,3 in hi).
  static reg select(reg lo, reg hi, ireg idx) {
    return _mm256_blend_ps(_mm256_permutevar8x32_ps(lo, idx), _mm256_permutevar8x32_ps(hi, idx), 0xf0);
  }
  // Prefetch the element `i` of an array (i may lie past its end: the address is formed as an
  // integer, and a prefetch never faults).
  template <class T>
  static void prefetch(const T* base, std::size_t i) {
    _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(base) + i * sizeof(T)), _MM_HINT_T0);
  }
  template <ValueKind KIND>
  static void prefetch_values(const void* values, std::size_t i) {
    if constexpr (KIND == ValueKind::fp32) {
      prefetch(static_cast<const float*>(values), i);
    } else {
      prefetch(static_cast<const std::uint16_t*>(values), i);
    }
  }
  template <ValueKind KIND>
  static reg load_values(const void* values, std::size_t i) {
    if constexpr (KIND == ValueKind::fp32) {
      return load(static_cast<const float*>(values) + i);
    } else {
      const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const std::uint16_t*>(values) + i));
      if constexpr (KIND == ValueKind::fp16) {
        return _mm256_cvtph_ps(h);
      } else {
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
      }
    }
  }
  static constexpr int kParts = 2;
  // t[j] = p[j] + p[j+8], then + [j+4], + [j+2], + [j+1]: the 16-lane tree of sparse_gemm.hpp
  // and sampled_gemm.hpp (the two registers, their halves, then within 128 bits).
  static float tree_from_8(__m256 t8) {
    const __m128 t4 = _mm_add_ps(_mm256_castps256_ps128(t8), _mm256_extractf128_ps(t8, 1));
    const __m128 t2 = _mm_add_ps(t4, _mm_movehl_ps(t4, t4));
    return _mm_cvtss_f32(_mm_add_ss(t2, _mm_movehdup_ps(t2)));
  }
  static float lane_tree_sum(const reg* p) { return tree_from_8(_mm256_add_ps(p[0], p[1])); }
  template <class Acc>
  static void lane_tree_sum4(const Acc& acc, float* out) {
    for (int u = 0; u < 4; ++u) out[u] = lane_tree_sum(acc[u]);
  }
};

#include "kernels_gemm.inl"
#include "kernels_nm.inl"
#include "kernels_sampled.inl"
#include "kernels_dense.inl"
#include "kernels_smalln.inl"
#include "kernels_dense_gemv.inl"

// 8 floats per step; the tail goes to the scalar code, which gives the same bits (tested).
void round_to_half(const float* in, std::uint16_t* out, std::size_t n, ValueKind kind) {
  std::size_t i = 0;
  if (kind == ValueKind::fp16) {
    for (; i + 8 <= n; i += 8) {
      const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
    }
  } else {
    const __m256i bias = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1);
    const __m256i magnitude = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    const __m256i sign = _mm256_set1_epi32(0x8000), qnan = _mm256_set1_epi32(0x7fc0);
    for (; i + 8 <= n; i += 8) {
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
      const __m256i hi = _mm256_srli_epi32(b, 16);
      const __m256i r = _mm256_srli_epi32(_mm256_add_epi32(b, _mm256_add_epi32(bias, _mm256_and_si256(hi, one))), 16);
      // Both sides non-negative as int32, so the signed compare is the unsigned one.
      const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(b, magnitude), inf);
      const __m256i out32 = _mm256_blendv_epi8(r, _mm256_or_si256(_mm256_and_si256(hi, sign), qnan), nan);
      // Values fit 16 bits: pack (per 128-bit lane), then gather quadwords 0 and 2.
      const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(out32, out32), 0x08);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_castsi256_si128(packed));
    }
  }
  round_to_half_scalar(in + i, out + i, n - i, kind);
}

}  // namespace

const KernelTable& table() {
  // 3 x 32 tile: 12 ymm accumulators (+ broadcast) of the 16 registers; K block 128 keeps the
  // 128 x 32 fp32 strip (16 KB) in L1 (K block 256 and a 4 x 24 tile measured no better).
  static const KernelTable t{{3, 32, 128, &gemm_tile<V, 3, 4>}, &small_n<V>, V::kWidth, &nm_rows<V>,
                             {6, 16, &dense_tile<V, 6, 2>},
                             {2, 2, &dot_tile<V, 2, 2>, &dot_tile<V, 1, 1>},
                             &round_to_half, &dense_gemv<V>, &first_bad_metadata_row, &sampled_rows<V>,
                             &place_rows};
  return t;
}

}  // namespace twofour::gemm::detail::avx2
