// AVX2 build of the GEMM fast path's kernel (compiled with -mavx2 -mfma -mf16c; reached only when
// the CPU reports them). 8 columns per ymm: products, alignment and the block sums in vector
// registers; fp32/RZ block sums in the normal range are rounded in registers, the rest lane by
// lane by the reference spec::round_block_sum.
#include "gemm_fast_kernels.hpp"

#if defined(__AVX2__) && defined(__F16C__)
#include <immintrin.h>

namespace twofour::sim::gemm_detail::avx2 {
namespace {

struct V {
  static constexpr int kWidth = 8;
  using F = __m256;
  using I = __m256i;
  struct Wide {
    __m256i lo, hi;  // lanes 0-3 and 4-7
  };

  static F load_f(const void* p) { return _mm256_loadu_ps(static_cast<const float*>(p)); }
  static F bcast(float x) { return _mm256_set1_ps(x); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static I load_i(const std::uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store_i(std::uint32_t* p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static I zero_i() { return _mm256_setzero_si256(); }
  static I add_i(I a, I b) { return _mm256_add_epi32(a, b); }
  static I bcast_i(std::int32_t x) { return _mm256_set1_epi32(x); }
  static I max_i(I a, I b) { return _mm256_max_epi32(a, b); }
  static F to_float(I a) { return _mm256_cvtepi32_ps(a); }

  // 2^k for integer-valued k in [-126, 127], built in the exponent field.
  static F pow2(I k) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23)); }
  // k clamped to [-126, 127]. Significands: |p| < 4; values (raw_products): 2^-100 <= |p| < 2^100.
  // Below -126, |p * 2^k| < 2^-26 truncates to 0 either way; k = F - E exceeds 127 only when every
  // product is zero (a non-zero product puts E at -102 or above).
  static I term(F p, F k) {
    const I ki = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(k, _mm256_set1_ps(-126.0f)), _mm256_set1_ps(127.0f)));
    return _mm256_cvttps_epi32(_mm256_mul_ps(p, pow2(ki)));
  }
  static F pow2_or_zero_products(F q) {
    return pow2(_mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(q, _mm256_set1_ps(-126.0f)), _mm256_set1_ps(127.0f))));
  }
  static I truncate(F x) { return _mm256_cvttps_epi32(x); }
  // q spans [F - 128, F - min_exp_limit], beyond one exponent field: two factors 2^h, 2^(q - h).
  // The first product is exact unless below 2^-126, and then the final value is below 2^-47.
  static I c_term(F c, F q) {
    const I qi = _mm256_cvttps_epi32(q);
    const I h = _mm256_srai_epi32(qi, 1);
    return _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_mul_ps(c, pow2(h)), pow2(_mm256_sub_epi32(qi, h))));
  }

  static __m128i low_halves(I bits) {
    const I pick = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1,  //
                                    0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1);
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_shuffle_epi8(bits, pick), 0x08));
  }
  static F acc_value(I bits, bool fp16) { return fp16 ? _mm256_cvtph_ps(low_halves(bits)) : _mm256_castsi256_ps(bits); }
  static F acc_exponent(F c) {
    const I bits = _mm256_castps_si256(c);
    const I field = _mm256_and_si256(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(0xff));
    const F e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_max_epi32(field, _mm256_set1_epi32(1)), _mm256_set1_epi32(127)));
    const I zero = _mm256_cmpeq_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x7fffffff)), _mm256_setzero_si256());
    return _mm256_blendv_ps(e, _mm256_set1_ps(static_cast<float>(kZeroExponent)), _mm256_castsi256_ps(zero));
  }
  static unsigned special(I bits, bool fp16) {
    const I ones = _mm256_set1_epi32(fp16 ? 0x7c00 : 0x7f800000);
    return static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(bits, ones), ones))));
  }
  static I select(unsigned lanes, I a, I b) {
    const I bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const I m = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(static_cast<int>(lanes)), bit), bit);
    return _mm256_blendv_epi8(b, a, m);
  }
  static I add_rn(I x, I y, bool fp16) {
    if (!fp16) return _mm256_castps_si256(_mm256_add_ps(_mm256_castsi256_ps(x), _mm256_castsi256_ps(y)));
    // One fp32 rounding, then fp16's: correctly rounded (see the AVX-512 build).
    const F sum = _mm256_add_ps(_mm256_cvtph_ps(low_halves(x)), _mm256_cvtph_ps(low_halves(y)));
    return _mm256_cvtepu16_epi32(_mm256_cvtps_ph(sum, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }

  static unsigned add_overflows(I a, I b, I sum) {  // a and b of one sign, the sum of the other
    const I both = _mm256_and_si256(_mm256_xor_si256(a, sum), _mm256_xor_si256(b, sum));
    return static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(both)));
  }
  static Wide wide_zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256()}; }
  static void wide_add(Wide& w, I s) {
    w.lo = _mm256_add_epi64(w.lo, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(s)));
    w.hi = _mm256_add_epi64(w.hi, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(s, 1)));
  }

  static I per_lane(const KernelSpec& s, const std::int64_t* sums, F em) {
    alignas(32) float e[8];
    alignas(32) std::uint32_t out[8];
    _mm256_store_ps(e, em);
    for (int j = 0; j < 8; ++j) out[j] = finish_lane(s, sums[j], e[j]);
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(out));
  }
  static I per_lane(const KernelSpec& s, I sum, F em) {
    alignas(32) std::int32_t v[8];
    std::int64_t sums[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(v), sum);
    for (int j = 0; j < 8; ++j) sums[j] = v[j];
    return per_lane(s, sums, em);
  }
  // fp32 output, round toward zero, result in the normal range: spec::round_block_sum's own
  // inline case (the leading 24 bits of |sum| under the exponent floor(log2|sum|) + E - F),
  // computed lane-wise; fewer result bits clear low mantissa bits (RZ on a nested grid). Lanes
  // with a subnormal or overflowing result take the per-lane path.
  static I finish(const KernelSpec& s, I sum, F em) {
    if (s.finish != VectorFinish::fp32_rz) return per_lane(s, sum, em);
    const I mag = _mm256_abs_epi32(sum);  // INT32_MIN stays 0x80000000: 2^31 read unsigned
    // floor(log2 mag): the exponent of mag converted to float, one less when rounding carried it
    // into the next binade (mag >> estimate is then 0).
    const I estimate = _mm256_sub_epi32(
        _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(mag)), 23), _mm256_set1_epi32(0xff)),
        _mm256_set1_epi32(127));
    const I carried = _mm256_cmpeq_epi32(_mm256_srlv_epi32(mag, estimate), _mm256_setzero_si256());
    const I msb = _mm256_add_epi32(estimate, carried);  // carried lanes: -1
    const I unit = _mm256_sub_epi32(_mm256_cvttps_epi32(em), _mm256_set1_epi32(s.fraction_bits));
    const I top = _mm256_add_epi32(msb, unit);
    const I shift_right = _mm256_max_epi32(_mm256_sub_epi32(msb, _mm256_set1_epi32(23)), _mm256_setzero_si256());
    const I shift_left = _mm256_max_epi32(_mm256_sub_epi32(_mm256_set1_epi32(23), msb), _mm256_setzero_si256());
    const I significand = _mm256_sllv_epi32(_mm256_srlv_epi32(mag, shift_right), shift_left);
    std::uint32_t fraction_mask = 0x7fffffu;
    if (s.result_fraction_bits < 23) fraction_mask &= ~((1u << (23 - s.result_fraction_bits)) - 1u);
    I bits = _mm256_or_si256(
        _mm256_or_si256(_mm256_and_si256(sum, _mm256_set1_epi32(static_cast<int>(0x80000000u))),
                        _mm256_slli_epi32(_mm256_add_epi32(top, _mm256_set1_epi32(127)), 23)),
        _mm256_and_si256(significand, _mm256_set1_epi32(static_cast<int>(fraction_mask))));
    const I zero = _mm256_cmpeq_epi32(sum, _mm256_setzero_si256());
    bits = _mm256_andnot_si256(zero, bits);  // an exact zero sum is +0
    const I outside = _mm256_andnot_si256(
        zero, _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(-126), top), _mm256_cmpgt_epi32(top, _mm256_set1_epi32(127))));
    if (_mm256_testz_si256(outside, outside) == 0) bits = select(static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(outside))),
                                                               per_lane(s, sum, em), bits);
    return bits;
  }
  static I finish_wide(const KernelSpec& s, const Wide& w, F em) {
    alignas(32) std::int64_t sums[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums), w.lo);
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums + 4), w.hi);
    return per_lane(s, sums, em);
  }
};

#include "gemm_fast_kernel.inl"

}  // namespace

const KernelTable& table() {
  static const KernelTable t{KernelIsa::avx2, &run_step, &run_int_rows};
  return t;
}

}  // namespace twofour::sim::gemm_detail::avx2

#else  // not built for AVX2 (another architecture): never selected, kernel_isa_supported says so

namespace twofour::sim::gemm_detail::avx2 {
const KernelTable& table() { return scalar::table(); }
}  // namespace twofour::sim::gemm_detail::avx2

#endif
