#pragma once
// Random GemmOperands for the GEMM tests: finite fp16/bf16 values over a wide exponent range
// (alignment shifts, cancellation), some +-0, fp32 C likewise, and valid ordered metadata
// (idx0 < idx1, so every sparse row, plain or ::ordered_metadata, is defined behaviour).
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/spec/format.hpp"
#include "twofour/sim/spec/instruction.hpp"

#include <array>
#include <cstdint>
#include <random>

namespace cuda_test {

struct Shape {
  int m, n, k;
};

inline std::uint32_t u32(std::mt19937& rng) { return static_cast<std::uint32_t>(rng()); }

// Finite values over a wide exponent range (alignment shifts, cancellation), some zeros and -0.
inline std::uint32_t random_half(const twofour::sim::spec::Instruction& instr, std::mt19937& rng) {
  const bool bf16 = instr.a == &twofour::sim::spec::bf16;
  const std::uint32_t sign = (u32(rng) & 1u) << 15;
  if (u32(rng) % 16 == 0) return sign;  // +-0
  if (bf16) return sign | ((110u + u32(rng) % 36u) << 7) | (u32(rng) & 0x7fu);
  return sign | ((4u + u32(rng) % 24u) << 10) | (u32(rng) & 0x3ffu);
}

inline std::uint32_t random_f32(std::mt19937& rng) {
  const std::uint32_t sign = (u32(rng) & 1u) << 31;
  if (u32(rng) % 16 == 0) return sign;
  return sign | ((110u + u32(rng) % 36u) << 23) | (u32(rng) & 0x7fffffu);
}

inline twofour::sim::GemmOperands random_operands(const twofour::sim::spec::Instruction& instr, Shape s,
                                                  std::mt19937& rng) {
  static constexpr std::array<std::uint8_t, 6> kOrdered = {0x4, 0x8, 0x9, 0xc, 0xd, 0xe};
  twofour::sim::GemmOperands ops;
  ops.a = twofour::sim::Tile(s.m, instr.is_sparse() ? s.k / 2 : s.k);
  ops.b = twofour::sim::Tile(s.k, s.n);
  ops.c = twofour::sim::Tile(s.m, s.n);
  for (auto& x : ops.a.bits) x = random_half(instr, rng);
  for (auto& x : ops.b.bits) x = random_half(instr, rng);
  for (auto& x : ops.c.bits) x = random_f32(rng);
  if (instr.is_sparse()) {
    ops.metadata.resize(static_cast<std::size_t>(s.m) * static_cast<std::size_t>(s.k / 4));
    for (auto& n : ops.metadata) n = kOrdered[u32(rng) % kOrdered.size()];
  }
  return ops;
}

}  // namespace cuda_test
