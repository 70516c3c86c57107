#pragma once
// How an fp8 (e4m3/e5m2) mma / mma.sp runs on sm_90 and sm_100. Hopper and Blackwell have no fp8
// tensor-core path for the warp-level instructions (only wgmma's QGMMA on sm_90, tcgen05.mma on
// sm_100), so ptxas lowers them, the same way for both (docs/isa-findings.md, read from
// `cuobjdump -sass` of CUDA 13.0 output):
//   1. F2FP.F16.E4M3.UNPACK_B, first on the low 16 bits of each operand register, later on the high
//      16 bits (.H1): every fp8 input converted to fp16 (exact: all fp8 values are fp16 values);
//   2. two HMMA(.SP) with the D type of the instruction (fp16 -> fp32 or fp16 -> fp16), the first
//      over the elements that sat in the low register halves with C = +0 (RZ), the second over
//      those in the high halves with the first's D as C. A register holds four consecutive
//      elements along K (stored elements for mma.sp), so element p of the K order goes to pass
//      (p / 2) % 2 (lowered_pass below);
//   3. the instruction's C added last, by an ordinary IEEE round-to-nearest-even addition in the
//      D format: FADD (fp32) or HADD2 (fp16).
// The hardware check: the 5,000 H100 fp8 -> fp16 and the 10,000 B200 fp8 -> fp16 / fp32 dot
// products of tests/data/tensor-core-hw were run with mma.sync m16n8k32 and replay bit-exact
// through it; the fp16 ones only through the grouping above (tests/sim/measured_dots_test.cpp).
#include "twofour/sim/spec/format.hpp"

#include <cstddef>
#include <cstdint>

namespace twofour::sim {

// An e4m3 or e5m2 pattern (low 8 bits) as the fp16 pattern of the same value. NaN gives fp16's
// canonical NaN (the datapath treats every NaN alike); e5m2 infinities stay infinities.
std::uint32_t fp8_to_fp16(const spec::FormatSpec& fp8, std::uint32_t bits);

// x + y on fp32 patterns, IEEE 754 binary32 round-to-nearest-even with subnormals kept (SASS
// FADD without .FTZ). Any NaN result is the canonical 0x7fffffff, as the datapath returns.
std::uint32_t fp32_add_rn(std::uint32_t x, std::uint32_t y);

// x + y in `f` (fp32 or fp16), IEEE round-to-nearest-even with subnormals kept: FADD for fp32,
// HADD2 (no .FTZ) for fp16. Any NaN result is the format's canonical NaN.
std::uint32_t float_add_rn(const spec::FormatSpec& f, std::uint32_t x, std::uint32_t y);

// Which of the two lowered HMMAs (0 or 1) takes the element at position p of an operand's K
// order, for operands listed with `elements_per_register_half` consecutive K positions in one
// 16-bit register half: 2 for dense K and for mma.sp's stored K, 4 for mma.sp listed in logical K
// (a stored pair is one chunk of four logical K).
constexpr int lowered_pass(std::size_t p, std::size_t elements_per_register_half) {
  return static_cast<int>((p / elements_per_register_half) % 2);
}

}  // namespace twofour::sim
