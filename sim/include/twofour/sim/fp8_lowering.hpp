#pragma once
// How an fp8 (e4m3/e5m2) mma / mma.sp runs on sm_90. Hopper has no fp8 tensor-core path for the
// warp-level instructions (only wgmma's QGMMA), so ptxas lowers them (docs/isa-findings.md, read
// from `cuobjdump -sass` of CUDA 13.0 output):
//   1. F2FP.F16.E4M3.UNPACK_B: every fp8 input converted to fp16 (exact: all fp8 values are fp16
//      values);
//   2. two HMMA(.SP) fp16 -> fp32 over the two K halves, the first with C = +0 (RZ), the second
//      with the first's D as C; i.e. the sm_90 fp16 datapath over all of K with C = +0, because
//      the halves fall on block boundaries (16 products per block, 16 per half under either
//      grouping);
//   3. FADD of the instruction's C: an ordinary IEEE fp32 round-to-nearest-even addition.
// These are the two non-tensor-core steps; InstructionDatapath and the GEMM fast path use them.
#include "twofour/sim/spec/format.hpp"

#include <cstdint>

namespace twofour::sim {

// An e4m3 or e5m2 pattern (low 8 bits) as the fp16 pattern of the same value. NaN gives fp16's
// canonical NaN (the datapath treats every NaN alike); e5m2 infinities stay infinities.
std::uint32_t fp8_to_fp16(const spec::FormatSpec& fp8, std::uint32_t bits);

// x + y on fp32 patterns, IEEE 754 binary32 round-to-nearest-even with subnormals kept (SASS
// FADD without .FTZ). Any NaN result is the canonical 0x7fffffff, as the datapath returns.
std::uint32_t fp32_add_rn(std::uint32_t x, std::uint32_t y);

}  // namespace twofour::sim
