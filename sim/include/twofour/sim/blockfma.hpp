#pragma once
// The tensor-core dot-product datapath (block FMA), fast path. One call computes one output
// element D = sum_k a_k * b_k + c exactly as the parameter set `spec` (spec/datapath.hpp) says
// the GPU does. No heap allocation; safe to call concurrently.
//
// Model: docs/datapath.md §Model (Khattak & Mikaitis, "Accurate Models of NVIDIA Tensor Cores",
// arXiv 2512.07004): specials over the whole row, blocks of spec.block_size exact products
// aligned to the largest exponent and truncated to F = 23 + neab fraction bits, one rounding
// (spec::round_to_format) per block, blocks chained through the output format. Integer rows:
// exact sum in 64 bits, then wrap to s32 or clamp (.satfinite).
#include "twofour/sim/spec/datapath.hpp"

#include <cstdint>
#include <span>

namespace twofour::sim {

// a, b: K bit patterns of spec.a_format / spec.b_format (low bits of each word; tf32's low 13
// bits are ignored). c and the result: bit patterns of spec.out_format (fp32 bits, or fp16 bits
// in the low 16). Requires a.size() == b.size() (checked: std::invalid_argument).
std::uint32_t dot(const spec::DatapathSpec& spec, std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                  std::uint32_t c);

// One block, without the whole-row specials pass and without chaining: a.size() <= block_size.
// Specials as in the model's step 1, for this block alone. Mainly for tests and hypotheses.
std::uint32_t block_fma(const spec::DatapathSpec& spec, std::span<const std::uint32_t> a,
                        std::span<const std::uint32_t> b, std::uint32_t c);

// Integer rows (spec.is_integer()): a, b are s8/u8/s4/u4 patterns (low bits of each word), c and
// the result s32 two's-complement patterns. Wraps modulo 2^32, or clamps when spec.satfinite.
std::uint32_t dot_int(const spec::DatapathSpec& spec, std::span<const std::uint32_t> a,
                      std::span<const std::uint32_t> b, std::uint32_t c);

}  // namespace twofour::sim
