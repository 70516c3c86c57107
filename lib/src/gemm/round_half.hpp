#pragma once
// Internal: scalar fp32 -> fp16 / bf16 rounding, to nearest with ties to even (internal linkage:
// included by translation units built for different instruction sets). The SIMD builds produce
// the same bits and call these for their tails.
#include <bit>
#include <cstddef>
#include <cstdint>

#include "kernels.hpp"

namespace twofour::gemm::detail {
namespace {

// bf16 keeps fp32's exponent, so rounding is integer arithmetic on the bit pattern: adding
// 0x7fff plus the lowest kept bit carries exactly when the dropped half is above the tie, or at
// the tie with an odd kept part (a carry out of the mantissa bumps the exponent, up to
// infinity). Subnormals round the same way. NaN would round into infinity: canonical quiet NaN.
inline std::uint16_t float_to_bf16_bits(float x) {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>(((b >> 16) & 0x8000u) | 0x7fc0u);
  return static_cast<std::uint16_t>((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}

inline std::uint16_t float_to_fp16_bits(float x) {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(x);
  const auto sign = static_cast<std::uint32_t>((b >> 16) & 0x8000u);
  const std::uint32_t a = b & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // quiet NaN
  if (a >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // >= 65520 (incl. inf): infinity
  if (a >= 0x38800000u) {
    // Normal fp16 (>= 2^-14): rebias the exponent 127 -> 15, then the bf16-style carry trick on
    // the 13 dropped bits (a carry out of the mantissa bumps the exponent; 65504 is the limit).
    const std::uint32_t r = a - (112u << 23);
    return static_cast<std::uint16_t>(sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13));
  }
  if (a <= 0x33000000u) return static_cast<std::uint16_t>(sign);  // <= 2^-25: half the smallest subnormal, ties to 0
  // Subnormal fp16: the significand m (with hidden bit) times 2^(e-150) in units of 2^-24 is
  // m >> (126 - e); round the dropped bits to nearest even (the result may reach 0x400, the
  // smallest normal, which is the right encoding).
  const std::uint32_t e = a >> 23;
  const std::uint32_t m = (a & 0x7fffffu) | 0x800000u;
  const std::uint32_t shift = 126u - e;  // 14 .. 24
  const std::uint32_t kept = m >> shift;
  const std::uint32_t rest = m & ((1u << shift) - 1u);
  const std::uint32_t half = 1u << (shift - 1u);
  const std::uint32_t up = (rest > half || (rest == half && (kept & 1u) != 0)) ? 1u : 0u;
  return static_cast<std::uint16_t>(sign | (kept + up));
}

inline void round_to_half_scalar(const float* in, std::uint16_t* out, std::size_t n, ValueKind kind) {
  if (kind == ValueKind::fp16) {
    for (std::size_t i = 0; i < n; ++i) out[i] = float_to_fp16_bits(in[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = float_to_bf16_bits(in[i]);
  }
}

}  // namespace
}  // namespace twofour::gemm::detail
