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
#include "round_half.hpp"
#include "validate_meta.hpp"
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
    // (shifted & 3) | base in one ternary-logic op (base has its low 2 bits clear, so | is +);
    // 0xea is the truth table of (A & B) | C.
    return _mm512_ternarylogic_epi32(_mm512_srlv_epi32(_mm512_set1_epi32(static_cast<int>(bits)), shifts),
                                     _mm512_set1_epi32(3), base, 0xea);
  }
  static reg select(reg lo, reg hi, ireg idx) { return _mm512_permutex2var_ps(lo, idx, hi); }
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
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::uint16_t*>(values) + i));
      if constexpr (KIND == ValueKind::fp16) {
        return _mm512_cvtph_ps(h);  // exact widening (F16C semantics)
      } else {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
      }
    }
  }
  static constexpr int kParts = 1;
  // t[j] = p[j] + p[j+8], then + [j+4], + [j+2], + [j+1]: the 16-lane tree of sparse_gemm.hpp
  // and sampled_gemm.hpp.
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
#include "kernels_dense_gemv.inl"

// sampled_gemm_dense's placing, four groups (16 dense columns) per step: the groups' kept lanes
// as a 16-bit mask, the 8 sums expanded into those lanes in order (idx0 < idx1 puts the first of a
// group's pair in its lower lane), then one masked add or store. A word holding a malformed nibble
// (idx0 >= idx1: its mask entry is 0, so fewer than 8 lanes) and the last partial word take the
// scalar code. Same additions as the scalar code, so the same bits (tested on every path).
void place_rows_512(const PlaceArgs& p) {
  static constexpr std::uint8_t kLanes[16] = {  // nibble (idx1 << 2 | idx0) -> lanes idx0, idx1
      0, 0, 0, 0, 0x3, 0, 0, 0, 0x5, 0x6, 0, 0, 0x9, 0xa, 0xc, 0};
  const std::size_t mw = sparse::meta_words_per_row(p.cols), half = p.cols / 2, groups = p.cols / 4;
  for (std::size_t r = p.row_begin; r < p.row_end; ++r) {
    const float* v = p.sums + (r - p.row_begin) * half;
    float* d = p.dense + r * p.ld;
    const std::uint16_t* words = p.meta + r * mw;
    std::size_t g = 0;
    for (; g + 4 <= groups; g += 4, v += 8, d += 16) {
      const unsigned w = words[g / 4];
      const auto lanes = static_cast<__mmask16>(kLanes[w & 0xfu] | kLanes[(w >> 4) & 0xfu] << 4 |
                                                kLanes[(w >> 8) & 0xfu] << 8 | kLanes[(w >> 12) & 0xfu] << 12);
      if (__builtin_popcount(lanes) != 8) {  // a malformed nibble
        place_word(w, 4, v, d, p.add);
        continue;
      }
      const __m512 x = _mm512_maskz_expandloadu_ps(lanes, v);
      if (p.add) {
        const __m512 old = _mm512_loadu_ps(d);
        _mm512_storeu_ps(d, _mm512_mask_add_ps(old, lanes, old, x));
      } else {
        _mm512_mask_storeu_ps(d, lanes, x);
      }
    }
    if (g < groups) place_word(words[g / 4], groups - g, v, d, p.add);
  }
}

// 16 floats per step; the tail (and nothing else) goes to the scalar code, which gives the
// same bits (tested exhaustively against it).
void round_to_half(const float* in, std::uint16_t* out, std::size_t n, ValueKind kind) {
  std::size_t i = 0;
  if (kind == ValueKind::fp16) {
    // vcvtps2ph with an explicit round-to-nearest-even immediate (MXCSR not consulted).
    for (; i + 16 <= n; i += 16) {
      const __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), h);
    }
  } else {
    // Integer rounding as in float_to_bf16_bits (not vcvtneps2bf16, which flushes subnormals).
    const __m512i bias = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1);
    const __m512i magnitude = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
    const __m512i sign = _mm512_set1_epi32(0x8000), qnan = _mm512_set1_epi32(0x7fc0);
    for (; i + 16 <= n; i += 16) {
      const __m512i b = _mm512_loadu_si512(in + i);
      const __m512i hi = _mm512_srli_epi32(b, 16);
      const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(b, _mm512_add_epi32(bias, _mm512_and_si512(hi, one))), 16);
      const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(b, magnitude), inf);
      const __m512i out32 = _mm512_mask_blend_epi32(nan, r, _mm512_or_si512(_mm512_and_si512(hi, sign), qnan));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtepi32_epi16(out32));
    }
  }
  round_to_half_scalar(in + i, out + i, n - i, kind);
}

}  // namespace

const KernelTable& table() {
  // Wide: 6 x 64 tile, 24 zmm accumulators. K block 1024. Each kept element costs one 64-byte
  // B load per fused multiply-add (its row's B row is its own; nothing is shared across the
  // tile's rows), so the tile runs at the L1 load rate, and B rows come from L2 whatever the K
  // block (a slot's B row is anywhere in its group of 4); longer K blocks cut the C tile
  // reloads and the tile calls. Measured on Zen 4 at 2048^3, 1 thread, CPU time, variants
  // alternated in one process: K block 256 -> 65-71, 512 -> 69-74, 1024 -> 72-73, 2048 -> 72
  // useful GFLOP/s; tiles 8 x 48, 12 x 32, 4 x 80, 5 x 80, 4 x 96 at 60-68, 7 x 64 within noise.
  static const KernelTable t{{6, 64, 1024, &gemm_tile<V, 6, 4>}, &small_n<V>, V::kWidth, &nm_rows<V>,
                             {8, 48, &dense_tile<V, 8, 3>},
                             {4, 4, &dot_tile<V, 4, 4>, &dot_tile<V, 1, 1>},
                             &round_to_half, &dense_gemv<V>, &first_bad_metadata_row, &sampled_rows<V>,
                             &place_rows_512};
  return t;
}

}  // namespace twofour::gemm::detail::avx512
