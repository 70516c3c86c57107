#pragma once
// An independent transcription of the sm_90 fp8 lowering (docs/isa-findings.md) for tests: the
// conversion goes through the compiler's _Float16 and the final add through the host's IEEE float
// addition, not through sim's fp8_lowering.cpp or rounding.hpp.
#include "twofour/sim/spec/format.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

namespace twofour::testing {

// fp8 pattern -> fp16 pattern of the same value (any NaN -> some fp16 NaN).
inline std::uint32_t host_fp8_to_fp16(const sim::spec::FormatSpec& fp8, std::uint32_t bits) {
  const double v = sim::spec::decode_to_double(fp8, bits);
  if (std::isnan(v)) return 0x7e00u;
  return std::bit_cast<std::uint16_t>(static_cast<_Float16>(v));
}

inline std::vector<std::uint32_t> host_fp8_to_fp16(const sim::spec::FormatSpec& fp8, const std::vector<std::uint32_t>& v) {
  std::vector<std::uint32_t> out;
  out.reserve(v.size());
  for (std::uint32_t x : v) out.push_back(host_fp8_to_fp16(fp8, x));
  return out;
}

// fp32 x + y with the host's round-to-nearest addition; NaN canonicalised as the GPU's datapath does.
inline std::uint32_t host_fadd(std::uint32_t x, std::uint32_t y) {
  const float s = std::bit_cast<float>(x) + std::bit_cast<float>(y);
  return std::isnan(s) ? 0x7fffffffu : std::bit_cast<std::uint32_t>(s);
}

// fp16 x + y with the host's _Float16 addition (HADD2); NaN canonicalised as the datapath does.
inline std::uint32_t host_hadd(std::uint32_t x, std::uint32_t y) {
  const _Float16 s = std::bit_cast<_Float16>(static_cast<std::uint16_t>(x)) + std::bit_cast<_Float16>(static_cast<std::uint16_t>(y));
  return std::isnan(static_cast<float>(s)) ? 0x7fffu : std::bit_cast<std::uint16_t>(s);
}

}  // namespace twofour::testing
