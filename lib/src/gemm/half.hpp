#pragma once
// Internal: exact scalar fp16/bf16 -> fp32 widening (internal linkage: included by TUs built
// for different instruction sets).
#include <bit>
#include <cstdint>

namespace twofour::gemm::detail {
namespace {

inline float bf16_bits_to_float(std::uint16_t h) { return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16); }

inline float fp16_bits_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t man = h & 0x3ffu;
  std::uint32_t bits = 0;
  if (exp == 0x1fu) {
    bits = sign | 0x7f800000u | (man << 13);  // inf / NaN (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (man << 13);  // rebias 15 -> 127
  } else if (man == 0) {
    bits = sign;
  } else {
    // Subnormal: normalise; value = man * 2^-24.
    int shift = 0;
    while ((man & 0x400u) == 0) {
      man <<= 1;
      ++shift;
    }
    man &= 0x3ffu;
    exp = static_cast<std::uint32_t>(113 - shift);  // 1 - 15 + 127 - shift
    bits = sign | (exp << 23) | (man << 13);
  }
  return std::bit_cast<float>(bits);
}

}  // namespace
}  // namespace twofour::gemm::detail

#include <cstddef>

#include "kernels.hpp"

namespace twofour::gemm::detail {
namespace {

template <ValueKind KIND>
inline float scalar_value(const void* values, std::size_t i) {
  if constexpr (KIND == ValueKind::fp32) {
    return static_cast<const float*>(values)[i];
  } else if constexpr (KIND == ValueKind::fp16) {
    return fp16_bits_to_float(static_cast<const std::uint16_t*>(values)[i]);
  } else {
    return bf16_bits_to_float(static_cast<const std::uint16_t*>(values)[i]);
  }
}

}  // namespace
}  // namespace twofour::gemm::detail
