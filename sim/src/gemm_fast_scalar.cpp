// Portable build of the GEMM fast path's kernel: one column per "vector", plain C++ arithmetic
// (std::ldexp scales exactly or rounds an underflowed value, below 2^-126, correctly), and each
// block's sum rounded by the reference spec::round_block_sum.
#include "gemm_fast_kernels.hpp"
#include "twofour/sim/fp8_lowering.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace twofour::sim::gemm_detail::scalar {
namespace {

struct V {
  static constexpr int kWidth = 1;
  using F = float;
  using I = std::uint32_t;  // accumulator bits, or an int32 sum modulo 2^32
  using Wide = std::int64_t;

  static F load_f(const void* p) {  // a float's bits in a packed 32-bit word
    float f;
    std::memcpy(&f, p, sizeof f);
    return f;
  }
  static F bcast(float x) { return x; }
  static F add(F a, F b) { return a + b; }
  static F sub(F a, F b) { return a - b; }
  static F max(F a, F b) { return a > b ? a : b; }
  static F mul(F a, F b) { return a * b; }
  static I load_i(const std::uint32_t* p) { return *p; }
  static void store_i(std::uint32_t* p, I v) { *p = v; }
  static I zero_i() { return 0u; }
  static I add_i(I a, I b) { return a + b; }
  static I bcast_i(std::int32_t x) { return static_cast<std::uint32_t>(x); }
  static I max_i(I a, I b) {
    return static_cast<std::int32_t>(a) > static_cast<std::int32_t>(b) ? a : b;
  }
  static F to_float(I a) { return static_cast<float>(static_cast<std::int32_t>(a)); }

  static I scaled(F x, F k) {  // k below -200: |x * 2^k| < 2^-198 truncates to 0 either way
    const int ki = k < -200.0f ? -200 : static_cast<int>(k);
    return static_cast<std::uint32_t>(static_cast<std::int32_t>(std::ldexp(x, ki)));
  }
  static I term(F p, F k) { return scaled(p, k); }
  static F pow2_or_zero_products(F q) { return std::ldexp(1.0f, static_cast<int>(q < -126.0f ? -126.0f : (q > 127.0f ? 127.0f : q))); }
  static I truncate(F x) { return static_cast<std::uint32_t>(static_cast<std::int32_t>(x)); }
  static I c_term(F c, F q) { return scaled(c, q); }

  static F fp16_value(std::uint32_t bits) {
    const int e = static_cast<int>((bits >> 10) & 0x1fu);
    const std::uint32_t m = bits & 0x3ffu;
    float mag = e == 0 ? std::ldexp(static_cast<float>(m), -24) : std::ldexp(static_cast<float>(m | 0x400u), e - 25);
    if (e == 0x1f) mag = m == 0 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
    return (bits & 0x8000u) != 0 ? -mag : mag;
  }
  static F acc_value(I bits, bool fp16) { return fp16 ? fp16_value(bits) : std::bit_cast<float>(bits); }
  static F acc_exponent(F c) {
    if (c == 0.0f) return static_cast<float>(kZeroExponent);
    const int e = std::ilogb(c);  // floor(log2|c|), subnormals included
    return static_cast<float>(e < -126 ? -126 : e);
  }
  static unsigned special(I bits, bool fp16) {
    const std::uint32_t ones = fp16 ? 0x7c00u : 0x7f800000u;
    return (bits & ones) == ones ? 1u : 0u;
  }
  static I select(unsigned lanes, I a, I b) { return (lanes & 1u) != 0 ? a : b; }
  static I add_rn(I x, I y, bool fp16) { return float_add_rn(fp16 ? spec::fp16 : spec::fp32, x, y); }  // the reference
  static unsigned add_overflows(I a, I b, I sum) { return ((a ^ sum) & (b ^ sum)) >> 31; }
  static Wide wide_zero() { return 0; }
  static void wide_add(Wide& w, I s) { w += static_cast<std::int32_t>(s); }
  static I finish(const KernelSpec& s, I sum, F em) {
    return finish_lane(s, static_cast<std::int32_t>(sum), em);
  }
  static I finish_wide(const KernelSpec& s, const Wide& w, F em) {
    return finish_lane(s, w, em);
  }
};

#include "gemm_fast_kernel.inl"

}  // namespace

const KernelTable& table() {
  static const KernelTable t{KernelIsa::scalar, &run_step, &run_int_rows};
  return t;
}

}  // namespace twofour::sim::gemm_detail::scalar
