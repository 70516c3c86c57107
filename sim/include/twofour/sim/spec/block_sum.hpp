#pragma once
// The last step of the block-FMA model (datapath.hpp): the block's exact fixed-point sum, in
// units of 2^unit, rounded to the output format. The one place both executors of the model (the
// reference block_fma and the GEMM level's vectorised fast path) finish a block.
#include "twofour/sim/spec/format.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <bit>
#include <cstdint>

namespace twofour::sim::spec {

constexpr std::uint32_t round_block_sum(const FormatSpec& out, std::int64_t sum, int unit, RoundingMode mode,
                                        bool overflow_to_infinity, int max_fraction_bits) {
  if (sum == 0) return 0u;  // an exact zero sum is +0
  const bool negative = sum < 0;
  const std::uint64_t mag = negative ? 0u - static_cast<std::uint64_t>(sum) : static_cast<std::uint64_t>(sum);
  const int top = 63 - std::countl_zero(mag) + unit;  // floor(log2 |sum|)
  if (overflow_to_infinity && top > out.max_exponent()) return infinity_bits(out, negative);
  // fp32 in its normal range under RZ with all 23 fraction bits is a truncation: done inline, as
  // the hot case of every fp32-accumulating row (the value round_to_format gives). Field tests,
  // not a name comparison, keep this cheap per element.
  const bool is_fp32 = out.bits == 32 && out.exponent_bits == 8 && out.mantissa_bits == 23 && !out.is_integer;
  if (is_fp32 && mode == RoundingMode::toward_zero && max_fraction_bits >= 23 && top >= -126 && top <= 127) {
    const int msb = top - unit;
    const std::uint64_t r = msb >= 23 ? mag >> (msb - 23) : mag << (23 - msb);
    return (negative ? 0x80000000u : 0u) | (static_cast<std::uint32_t>(top + 127) << 23) |
           (static_cast<std::uint32_t>(r) & 0x7fffffu);
  }
  return round_to_format(out, negative, mag, unit, false, mode, false, max_fraction_bits);
}

}  // namespace twofour::sim::spec
