#pragma once
// Parameters of the tensor-core dot-product datapath ("block FMA"), as data, per architecture and
// input/output format. The arithmetic itself lives in twofour/sim/blockfma.hpp; see
// docs/datapath.md for the model and how each row was checked.
//
// Sources: Khattak & Mikaitis (K&M), "Accurate Models of NVIDIA Tensor Cores", arXiv 2512.07004,
// code north-numerical-computing/MATLAB-tensor-core (`models/A100TC.m`, `models/H100TC.m`,
// `models/AdaTC.m`, `models/tools/GEMM.m`), summarised in docs/datapath.md §Model. Rows marked
// [V] replay every GPU-measured case of tests/data/tensor-core-hw bit for bit; [I] rows are the
// published parameters without measured data here.
#include "twofour/sim/spec/format.hpp"
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <optional>

namespace twofour::sim::spec {

// Bits of the fixed-point significands that the model aligns: 23 + neab fraction bits (K&M
// `fpbits_IEEE2`: significands are uint32(x * 2^23) shifted left by neab).
inline constexpr int kAlignBaseFractionBits = 23;

struct DatapathSpec {
  Arch arch;
  const FormatSpec* a_format;   // input formats (fp8 may mix e4m3 and e5m2)
  const FormatSpec* b_format;
  const FormatSpec* out_format; // C and D (fp32 or fp16); integer rows: s32
  int block_size;               // products per block-FMA (n); longer K is chained block by block
  int neab;                     // extra alignment bits: F = 23 + neab fraction bits kept when aligning
  int result_fraction_bits;     // at most this many fraction bits in D (fp8 with neab < 0: 13)
  RoundingMode rounding;        // the one final rounding (RZ for fp32 out, RNE for fp16 out)
  int min_exp_limit;            // the alignment exponent is at least this
  bool subnormal_inputs;        // false: subnormal inputs would be flushed (no row here does that)
  bool subnormal_outputs;       // false: subnormal results would be flushed (no row here does that)
  bool overflow_to_infinity;    // K&M: an exponent overflow gives Inf even under RZ [I on hardware]
  bool satfinite;               // integer rows: clamp instead of wrap

  constexpr int fraction_bits() const { return kAlignBaseFractionBits + neab; }
  constexpr bool is_integer() const { return out_format->is_integer; }
};

namespace detail {
constexpr DatapathSpec fp_row(Arch arch, const FormatSpec& in, const FormatSpec& out, int n, int neab, int min_exp) {
  const bool f16_out = out == fp16;
  // K&M GEMM.m: a negative neab also lowers the result's fraction bits (23 + neab = 13 for fp32).
  // For fp16 output that rule would leave 0 bits, which cannot be what the GPU does; the fp16 rows
  // keep 10 ([I]: no measured wgmma fp8 -> fp16 data; docs/datapath.md §fp8 -> fp16).
  const int result_bits = neab < 0 && !f16_out ? out.mantissa_bits + neab : out.mantissa_bits;
  return DatapathSpec{arch, &in, &in, &out, n, neab, result_bits,
                      f16_out ? RoundingMode::nearest_even : RoundingMode::toward_zero, min_exp,
                      true, true, true, false};
}
constexpr DatapathSpec int_row(Arch arch, const FormatSpec& in) {
  return DatapathSpec{arch, &in, &in, &s32, 0, 0, 0, RoundingMode::toward_zero, 0, true, true, false, false};
}
}  // namespace detail

// One row per (architecture, input, output). fp8 rows on sm_89/sm_90 are mma/wgmma e4m3 and e5m2.
inline constexpr DatapathSpec datapath_table[] = {
    // A100 (sm_80): K&M models/A100TC.m. [V] fp16->fp32, fp16->fp16, bf16->fp32, tf32->fp32.
    detail::fp_row(Arch::sm80, fp16, fp32, 8, 1, -132),
    detail::fp_row(Arch::sm80, fp16, fp16, 8, 1, -20),
    detail::fp_row(Arch::sm80, bf16, fp32, 8, 1, -132),
    detail::fp_row(Arch::sm80, tf32, fp32, 4, 1, -132),
    // Ada (sm_89) fp8: K&M models/AdaTC.m, n = 16, neab = -10. [I] (no measured data here)
    detail::fp_row(Arch::sm89, e4m3, fp32, 16, -10, -132),
    detail::fp_row(Arch::sm89, e5m2, fp32, 16, -10, -132),
    detail::fp_row(Arch::sm89, e4m3, fp16, 16, -10, -132),
    detail::fp_row(Arch::sm89, e5m2, fp16, 16, -10, -132),
    // H100/H200 (sm_90): K&M models/H100TC.m. [V] fp16->fp32, fp16->fp16, bf16->fp32, tf32->fp32,
    // e4m3/e5m2->fp32 (C = 0 only). fp8->fp16: the published parameters, [I] (the measured
    // fp8 -> fp16 data is mma.sync, not wgmma: docs/datapath.md). The fp8 rows describe wgmma
    // (QGMMA): the warp-level fp8 mma / mma.sp on sm_90 is lowered to two fp16 HMMAs + FADD/HADD2
    // and runs the fp16 rows (InstructionDatapath, fp8_lowering.hpp).
    detail::fp_row(Arch::sm90, fp16, fp32, 16, 2, -133),
    detail::fp_row(Arch::sm90, fp16, fp16, 16, 2, -21),
    detail::fp_row(Arch::sm90, bf16, fp32, 16, 2, -133),
    detail::fp_row(Arch::sm90, tf32, fp32, 8, 2, -133),
    detail::fp_row(Arch::sm90, e4m3, fp32, 32, -10, -133),
    detail::fp_row(Arch::sm90, e5m2, fp32, 32, -10, -133),
    detail::fp_row(Arch::sm90, e4m3, fp16, 32, -10, -133),
    detail::fp_row(Arch::sm90, e5m2, fp16, 32, -10, -133),
    // Integer: exact product sum, then s32 wrap (PTX mma .s32 accumulate). .satfinite: see lookup.
    detail::int_row(Arch::sm80, s8), detail::int_row(Arch::sm80, u8),
    detail::int_row(Arch::sm80, s4), detail::int_row(Arch::sm80, u4),
};

// The datapath of `arch` for D = A*B + C with the given formats; nullopt when the GPU has no such
// tensor-core path. sm_90 inherits sm_80's integer rows and sm_89's missing rows are not guessed;
// mixed fp8 (e4m3 x e5m2) uses the shared fp8 parameters; mixed integer signedness is allowed
// (PTX: u8/s8 "mixed allowed"). `satfinite` only applies to integer outputs.
constexpr std::optional<DatapathSpec> find_datapath(Arch arch, const FormatSpec& a, const FormatSpec& b,
                                                    const FormatSpec& out, bool satfinite = false) {
  if (a.is_integer != b.is_integer) return std::nullopt;
  if (a.is_integer) {
    if (!(out == s32) || a.bits != b.bits) return std::nullopt;
    for (const DatapathSpec& row : datapath_table) {
      if (row.is_integer() && *row.a_format == a) {
        DatapathSpec spec = row;
        spec.arch = arch;
        spec.b_format = &b;
        spec.satfinite = satfinite;
        return spec;
      }
    }
    return std::nullopt;
  }
  if (satfinite) return std::nullopt;
  const bool a_fp8 = a == e4m3 || a == e5m2;
  const bool b_fp8 = b == e4m3 || b == e5m2;
  if (!(a == b) && !(a_fp8 && b_fp8)) return std::nullopt;
  // fp8 exists from sm_89 (PTX ISA 8.4): sm_90 has its own row, sm_89 too.
  for (const DatapathSpec& row : datapath_table) {
    if (row.arch == arch && *row.a_format == a && *row.out_format == out) {
      DatapathSpec spec = row;
      spec.b_format = &b;
      return spec;
    }
  }
  // sm_89 runs the sm_80 rows for the 16/32-bit inputs [I: Ada's fp16 datapath is not modelled
  // separately here].
  if (arch == Arch::sm89 && !a_fp8) return find_datapath(Arch::sm80, a, b, out);
  return std::nullopt;
}

}  // namespace twofour::sim::spec
