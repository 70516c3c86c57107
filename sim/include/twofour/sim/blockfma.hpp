#pragma once
// The tensor-core dot-product datapath (block FMA), fast path. One call computes one output
// element D = sum_k a_k * b_k + c exactly as the parameter set `spec` (spec/datapath.hpp) says
// the GPU does. No heap allocation; safe to call concurrently.
//
// Model (K&M "Accurate Models of NVIDIA Tensor Cores", isa.md §3.1), for floating-point rows:
//  1. Specials, over the WHOLE row (all K products and c) before any block: a NaN input, a NaN c,
//     or Inf * 0 gives NaN; +Inf and -Inf together (infinite products, whose sign is
//     sign(a) ^ sign(b), and an infinite c) give NaN; otherwise any Inf gives that Inf. The NaN
//     returned is the output format's canonical NaN (0x7fffffff fp32, 0x7fff fp16): PTX leaves
//     the pattern unspecified.
//  2. Blocks: products k = 0..n-1 form block 0, n..2n-1 block 1, ...; a last partial block is
//     padded with zero products (which drop out). c enters block 0; the output of block j,
//     rounded to the output format, is the c of block j+1. D is the output of the last block.
//     K = 0 returns c unchanged.
//  3. In a block: products are exact; a product's exponent is e_a + e_b with each input's
//     exponent floor(log2|x|), or the format's e_min for a subnormal (the product significand,
//     in [0,4), is not normalised). c's exponent is floor(log2|c|), at least -126 (c is read as
//     fp32 even for fp16 output, as the model does). Zero products and a zero c take no part.
//     E = max(product exponents, c's exponent, spec.min_exp_limit). Every term is scaled to units
//     of 2^(E - F), F = 23 + neab, and its magnitude truncated to an integer (no guard or sticky
//     bits). The integers are summed exactly; a zero sum gives +0.
//  4. The sum is rounded once, by spec::round_to_format, in spec.rounding, to the output format
//     with at most spec.result_fraction_bits fraction bits; subnormal results are produced; an
//     exponent overflow gives +-Inf (spec.overflow_to_infinity), also under RZ.
// Integer rows: exact sum of the products and c in 64 bits, then wrap to s32 or clamp
// (.satfinite).
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
// Special inputs are handled as in step 1 for this block alone. Mainly for tests and hypotheses.
std::uint32_t block_fma(const spec::DatapathSpec& spec, std::span<const std::uint32_t> a,
                        std::span<const std::uint32_t> b, std::uint32_t c);

// Integer rows (spec.is_integer()): a, b are s8/u8/s4/u4 patterns (low bits of each word), c and
// the result s32 two's-complement patterns. Wraps modulo 2^32, or clamps when spec.satfinite.
std::uint32_t dot_int(const spec::DatapathSpec& spec, std::span<const std::uint32_t> a,
                      std::span<const std::uint32_t> b, std::uint32_t c);

}  // namespace twofour::sim
