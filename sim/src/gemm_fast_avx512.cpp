// AVX-512 build of the GEMM fast path's kernel (compiled with -mavx512f -mavx512bw -mavx512dq
// -mavx512vl -mavx2 -mfma -mf16c; reached only when the CPU reports them). 16 columns per zmm;
// products scaled by VSCALEFPS and truncated by VCVTTPS2DQ, and the block's sum rounded in
// vector registers for fp32/RZ and fp16/RNE (why each step is exact: docs/simulator.md §Fast path).
#include "gemm_fast_kernels.hpp"

#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512BW__) && defined(__AVX512VL__)
// GCC 12 reports its own AVX-512 intrinsics (which start from _mm512_undefined_*()) as using
// uninitialised values once inlined; the warning is about the header, not this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace twofour::sim::gemm_detail::avx512 {
namespace {

constexpr int kRz = _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC;
constexpr int kRne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

struct V {
  static constexpr int kWidth = 16;
  using F = __m512;
  using I = __m512i;
  struct Wide {
    __m512i lo, hi;  // lanes 0-7 and 8-15
  };

  static F load_f(const void* p) { return _mm512_loadu_ps(p); }
  static F bcast(float x) { return _mm512_set1_ps(x); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static I load_i(const std::uint32_t* p) { return _mm512_loadu_si512(p); }
  static void store_i(std::uint32_t* p, I v) { _mm512_storeu_si512(p, v); }
  static I zero_i() { return _mm512_setzero_si512(); }
  static I add_i(I a, I b) { return _mm512_add_epi32(a, b); }
  static I bcast_i(std::int32_t x) { return _mm512_set1_epi32(x); }
  static I max_i(I a, I b) { return _mm512_max_epi32(a, b); }
  static F to_float(I a) { return _mm512_cvtepi32_ps(a); }

  // VSCALEFPS scales exactly unless the result underflows; an underflowed result is below 2^-126
  // in magnitude, so truncates to 0 as the exact value does.
  static I term(F p, F k) { return _mm512_cvttps_epi32(_mm512_scalef_ps(p, k)); }
  static F pow2_or_zero_products(F q) { return _mm512_scalef_ps(_mm512_set1_ps(1.0f), _mm512_min_ps(q, _mm512_set1_ps(127.0f))); }
  static I truncate(F x) { return _mm512_cvttps_epi32(x); }
  static I c_term(F c, F q) { return _mm512_cvttps_epi32(_mm512_scalef_ps(c, q)); }

  static __m256i low_halves(I bits) { return _mm512_cvtepi32_epi16(bits); }
  static F acc_value(I bits, bool fp16) {
    return fp16 ? _mm512_cvtph_ps(low_halves(bits)) : _mm512_castsi512_ps(bits);
  }
  static F acc_exponent(F c) {
    // VGETEXPPS gives floor(log2|c|), subnormals included (MXCSR.DAZ is clear); c is read as fp32.
    const __mmask16 nonzero = _mm512_cmp_ps_mask(c, _mm512_setzero_ps(), _CMP_NEQ_OQ);
    return _mm512_mask_max_ps(_mm512_set1_ps(static_cast<float>(kZeroExponent)), nonzero, _mm512_getexp_ps(c), _mm512_set1_ps(-126.0f));
  }
  static unsigned special(I bits, bool fp16) {
    const I ones = _mm512_set1_epi32(fp16 ? 0x7c00 : 0x7f800000);
    return _mm512_cmpeq_epi32_mask(_mm512_and_si512(bits, ones), ones);
  }
  static I select(unsigned lanes, I a, I b) { return _mm512_mask_blend_epi32(static_cast<__mmask16>(lanes), b, a); }
  static I add_rn(I x, I y, bool fp16) {
    if (!fp16) return _mm512_castps_si512(_mm512_add_ps(_mm512_castsi512_ps(x), _mm512_castsi512_ps(y)));
    // Two fp16 values add with one rounding in fp32 (24 >= 2 * 11 + 1: Figueroa 1995), and a sum
    // in fp16's subnormal range is exact, so the second rounding is the correctly rounded sum.
    const F sum = _mm512_add_ps(_mm512_cvtph_ps(low_halves(x)), _mm512_cvtph_ps(low_halves(y)));
    return _mm512_cvtepu16_epi32(_mm512_cvtps_ph(sum, kRne));
  }

  static unsigned add_overflows(I a, I b, I sum) {  // a and b of one sign, the sum of the other
    return _mm512_movepi32_mask(_mm512_and_si512(_mm512_xor_si512(a, sum), _mm512_xor_si512(b, sum)));
  }
  static Wide wide_zero() { return {_mm512_setzero_si512(), _mm512_setzero_si512()}; }
  static void wide_add(Wide& w, I s) {
    w.lo = _mm512_add_epi64(w.lo, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(s)));
    w.hi = _mm512_add_epi64(w.hi, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(s, 1)));
  }

  static I per_lane(const KernelSpec& s, const std::int64_t* sums, F em) {
    alignas(64) float e[16];
    alignas(64) std::uint32_t out[16];
    _mm512_store_ps(e, em);
    for (int j = 0; j < 16; ++j) out[j] = finish_lane(s, sums[j], e[j]);
    return _mm512_load_si512(out);
  }

  // f: the sum rounded toward zero to 24 bits (an integer-valued float), with the sticky bit
  // or-ed into its last bit when fp16 output follows (round to odd). Then the scaling to units
  // of 2^(E - F) and the output rounding.
  static I finish_float(const KernelSpec& s, F f, F em) {
    const F unit = _mm512_sub_ps(em, _mm512_set1_ps(static_cast<float>(s.fraction_bits)));
    if (s.finish == VectorFinish::fp16_rne) {
      // Round to odd at 24 bits, then round to nearest even at 11: correct because 24 >= 11 + 2
      // (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms
      // using rounding to odd", IEEE TC 57(4), 2008). The scaling is exact (fp16 rows keep
      // E - F >= -46) or, below 2^-126, leaves a value that rounds to a signed zero either way.
      return _mm512_cvtepu16_epi32(_mm512_cvtps_ph(_mm512_scalef_ps(f, unit), kRne));
    }
    // RZ twice on nested grids (24 bits of the sum, then fp32's grid at that exponent, coarser
    // for subnormals) is one RZ.
    F r = _mm512_scalef_round_ps(f, unit, kRz);
    if (s.overflow_to_infinity && s.may_overflow) {  // floor(log2|value|) > 127: Inf (the model), not FLT_MAX (RZ)
      const __mmask16 over =
          _mm512_cmp_ps_mask(_mm512_add_ps(_mm512_getexp_ps(f), unit), _mm512_set1_ps(127.0f), _CMP_GT_OQ);
      const F inf = _mm512_or_ps(_mm512_and_ps(f, _mm512_castsi512_ps(_mm512_set1_epi32(static_cast<int>(0x80000000u)))),
                                 _mm512_castsi512_ps(_mm512_set1_epi32(0x7f800000)));
      r = _mm512_mask_mov_ps(r, over, inf);
    }
    I bits = _mm512_castps_si512(r);
    if (s.result_fraction_bits < 23) {  // fewer result bits: RZ on a coarser nested grid again
      const std::uint32_t drop = (1u << (23 - s.result_fraction_bits)) - 1u;
      bits = _mm512_andnot_si512(_mm512_set1_epi32(static_cast<int>(drop)), bits);
    }
    return bits;
  }

  static I finish(const KernelSpec& s, I sum, F em) {
    if (s.finish == VectorFinish::per_lane) {
      alignas(64) std::int32_t v[16];
      std::int64_t sums[16];
      _mm512_store_si512(v, sum);
      for (int j = 0; j < 16; ++j) sums[j] = v[j];
      return per_lane(s, sums, em);
    }
    F f = _mm512_cvt_roundepi32_ps(sum, kRz);
    if (s.finish == VectorFinish::fp16_rne) {  // |f| <= |sum| < 2^31: converts back exactly
      const __mmask16 inexact = _mm512_cmpneq_epi32_mask(_mm512_cvttps_epi32(f), sum);
      f = _mm512_castsi512_ps(_mm512_mask_or_epi32(_mm512_castps_si512(f), inexact, _mm512_castps_si512(f),
                                                   _mm512_set1_epi32(1)));
    }
    return finish_float(s, f, em);
  }

  static I finish_wide(const KernelSpec& s, const Wide& w, F em) {
    if (s.finish == VectorFinish::per_lane) {
      alignas(64) std::int64_t sums[16];
      _mm512_store_si512(sums, w.lo);
      _mm512_store_si512(sums + 8, w.hi);
      return per_lane(s, sums, em);
    }
    const __m256 lo = _mm512_cvt_roundepi64_ps(w.lo, kRz), hi = _mm512_cvt_roundepi64_ps(w.hi, kRz);
    F f = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
    if (s.finish == VectorFinish::fp16_rne) {
      const __mmask8 in_lo = _mm512_cmpneq_epi64_mask(_mm512_cvttps_epi64(lo), w.lo);
      const __mmask8 in_hi = _mm512_cmpneq_epi64_mask(_mm512_cvttps_epi64(hi), w.hi);
      const __mmask16 inexact = static_cast<__mmask16>(in_lo | (in_hi << 8));
      f = _mm512_castsi512_ps(_mm512_mask_or_epi32(_mm512_castps_si512(f), inexact, _mm512_castps_si512(f),
                                                   _mm512_set1_epi32(1)));
    }
    return finish_float(s, f, em);
  }
};

#include "gemm_fast_kernel.inl"

}  // namespace

const KernelTable& table() {
  static const KernelTable t{KernelIsa::avx512, &run_step, &run_int_rows};
  return t;
}

}  // namespace twofour::sim::gemm_detail::avx512

#else  // not built for AVX-512 (another architecture): never selected, kernel_isa_supported says so

namespace twofour::sim::gemm_detail::avx512 {
const KernelTable& table() { return scalar::table(); }
}  // namespace twofour::sim::gemm_detail::avx512

#endif
