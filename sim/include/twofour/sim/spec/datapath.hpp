#pragma once
// Parameters of the tensor-core dot-product datapath ("block FMA"), as data, per architecture and
// input/output format. The arithmetic itself lives in twofour/sim/blockfma.hpp; see
// docs/datapath.md for the model and how each row was checked.
//
// Sources: Khattak & Mikaitis (K&M), "Accurate Models of NVIDIA Tensor Cores", arXiv 2512.07004,
// code north-numerical-computing/MATLAB-tensor-core (`models/A100TC.m`, `models/H100TC.m`,
// `models/AdaTC.m`, `models/tools/GEMM.m`), summarised in docs/datapath.md §Model. Each row of
// `datapath_rows` names the GPU data sets of tests/data/tensor-core-hw it replays bit for bit ([V])
// or says why it is believed ([I]).
#include "twofour/sim/spec/format.hpp"
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <array>
#include <iterator>
#include <optional>
#include <string_view>

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

// The block-FMA parameters of one datapath, shared by every architecture (and output format,
// where the published model says so) that has them. One home per measured fact: a row of
// `datapath_rows` points at one of these instead of repeating the numbers.
struct BlockFmaParams {
  int block_size;     // n
  int neab;           // F = 23 + neab
  int min_exp_limit;  // lower bound of the alignment exponent
};

// K&M's published parameter sets (docs/datapath.md has the table and its evidence).
namespace params {
inline constexpr BlockFmaParams ampere_16bit_fp32{8, 1, -132};  // fp16/bf16 -> fp32 (models/A100TC.m)
inline constexpr BlockFmaParams ampere_fp16_fp16{8, 1, -20};    // fp16 -> fp16
inline constexpr BlockFmaParams ampere_tf32{4, 1, -132};        // tf32 -> fp32
inline constexpr BlockFmaParams ada_fp8{16, -10, -132};         // e4m3/e5m2 -> fp32/fp16 (models/AdaTC.m)
inline constexpr BlockFmaParams hopper_16bit_fp32{16, 2, -133}; // fp16/bf16 -> fp32 (models/H100TC.m)
inline constexpr BlockFmaParams hopper_fp16_fp16{16, 2, -21};   // fp16 -> fp16
inline constexpr BlockFmaParams hopper_tf32{8, 2, -133};        // tf32 -> fp32
inline constexpr BlockFmaParams hopper_fp8_wgmma{32, -10, -133};// e4m3/e5m2 -> fp32/fp16, wgmma (QGMMA)
}  // namespace params

// One (architecture, input, output) datapath and its evidence. `measured_on` names the GPU data
// sets of tests/data/tensor-core-hw (space-separated) whose every case replays through this row
// for this (input, output): the row is then [V], and tests/sim/measured_dots_test.cpp checks the
// claim. Empty: [I], and `note` says why the parameters are believed.
struct DatapathRow {
  Arch arch;
  const FormatSpec* in;   // both inputs (mixed fp8 uses the fp8 row: find_datapath)
  const FormatSpec* out;  // C and D
  const BlockFmaParams* params;
  std::string_view measured_on;
  std::string_view note;

  constexpr bool verified() const { return !measured_on.empty(); }
};

inline constexpr DatapathRow datapath_rows[] = {
    // A100 (sm_80).
    {Arch::sm80, &fp16, &fp32, &params::ampere_16bit_fp32, "A100", ""},
    {Arch::sm80, &fp16, &fp16, &params::ampere_fp16_fp16, "A100", ""},
    {Arch::sm80, &bf16, &fp32, &params::ampere_16bit_fp32, "A100", ""},
    {Arch::sm80, &tf32, &fp32, &params::ampere_tf32, "A100", ""},
    // A2 and the rest of GA10x (sm_86): the A100 parameters, measured on the A2.
    {Arch::sm86, &fp16, &fp32, &params::ampere_16bit_fp32, "A2", ""},
    {Arch::sm86, &fp16, &fp16, &params::ampere_fp16_fp16, "A2", ""},
    {Arch::sm86, &bf16, &fp32, &params::ampere_16bit_fp32, "A2", ""},
    {Arch::sm86, &tf32, &fp32, &params::ampere_tf32, "A2", ""},
    // Ada (sm_89): the A100 parameters for 16/32-bit inputs; its own native fp8 (QMMA).
    {Arch::sm89, &fp16, &fp32, &params::ampere_16bit_fp32, "Ada L40S", ""},
    {Arch::sm89, &fp16, &fp16, &params::ampere_fp16_fp16, "Ada L40S", ""},
    {Arch::sm89, &bf16, &fp32, &params::ampere_16bit_fp32, "Ada L40S", ""},
    {Arch::sm89, &tf32, &fp32, &params::ampere_tf32, "Ada L40S", ""},
    {Arch::sm89, &e4m3, &fp32, &params::ada_fp8, "Ada L40S", "mma.sync m16n8k32 (QMMA.16832.F32)"},
    {Arch::sm89, &e5m2, &fp32, &params::ada_fp8, "Ada L40S", "mma.sync m16n8k32 (QMMA.16832.F32)"},
    {Arch::sm89, &e4m3, &fp16, &params::ada_fp8, "Ada", "mma.sync m16n8k32 .f16 (QMMA.16832.F16)"},
    {Arch::sm89, &e5m2, &fp16, &params::ada_fp8, "Ada", "mma.sync m16n8k32 .f16 (QMMA.16832.F16)"},
    // H100/H200 (sm_90). The fp8 rows describe wgmma (QGMMA): warp-level fp8 mma / mma.sp is lowered
    // to two fp16 HMMAs + FADD/HADD2 and runs the fp16 rows (InstructionDatapath, fp8_lowering.hpp).
    {Arch::sm90, &fp16, &fp32, &params::hopper_16bit_fp32, "H100", ""},
    {Arch::sm90, &fp16, &fp16, &params::hopper_fp16_fp16, "H100", ""},
    {Arch::sm90, &bf16, &fp32, &params::hopper_16bit_fp32, "H100", ""},
    {Arch::sm90, &tf32, &fp32, &params::hopper_tf32, "H100", "K = 4 only: the block size 8 is not exercised"},
    {Arch::sm90, &e4m3, &fp32, &params::hopper_fp8_wgmma, "H100", "wgmma with C = 0 only"},
    {Arch::sm90, &e5m2, &fp32, &params::hopper_fp8_wgmma, "H100", "wgmma with C = 0 only"},
    {Arch::sm90, &e4m3, &fp16, &params::hopper_fp8_wgmma, "",
     "K&M's wgmma parameters with an fp16 accumulator; the measured fp8 -> fp16 cases ran the lowered mma.sync"},
    {Arch::sm90, &e5m2, &fp16, &params::hopper_fp8_wgmma, "",
     "K&M's wgmma parameters with an fp16 accumulator; the measured fp8 -> fp16 cases ran the lowered mma.sync"},
    // B200 (sm_100): the H100 parameters. No fp8 row: warp-level fp8 mma / mma.sp is lowered as on
    // sm_90 (to these fp16 rows), and the native fp8 path (tcgen05.mma) is not simulated.
    {Arch::sm100, &fp16, &fp32, &params::hopper_16bit_fp32, "B200", ""},
    {Arch::sm100, &fp16, &fp16, &params::hopper_fp16_fp16, "B200", ""},
    {Arch::sm100, &bf16, &fp32, &params::hopper_16bit_fp32, "B200", ""},
    {Arch::sm100, &tf32, &fp32, &params::hopper_tf32, "B200", "K = 4 only: the block size 8 is not exercised"},
};

namespace detail {
constexpr DatapathSpec fp_spec(const DatapathRow& row) {
  const FormatSpec& out = *row.out;
  const bool f16_out = out == fp16;
  const int neab = row.params->neab;
  // K&M GEMM.m: a negative neab also lowers the result's fraction bits (23 + neab = 13 for fp32).
  // For fp16 output that rule would leave 0 bits; fp16 output keeps 10 ([V] on Ada's fp8 -> fp16
  // cases; docs/datapath.md).
  const int result_bits = neab < 0 && !f16_out ? out.mantissa_bits + neab : out.mantissa_bits;
  return DatapathSpec{row.arch, row.in, row.in, &out, row.params->block_size, neab, result_bits,
                      f16_out ? RoundingMode::nearest_even : RoundingMode::toward_zero, row.params->min_exp_limit,
                      true, true, true, false};
}
// Integer mma is exact on every architecture (sum in s32, wrap or clamp), so one row per input.
constexpr DatapathSpec int_spec(const FormatSpec& in) {
  return DatapathSpec{Arch::sm80, &in, &in, &s32, 0, 0, 0, RoundingMode::toward_zero, 0, true, true, false, false};
}
inline constexpr const FormatSpec* integer_inputs[] = {&s8, &u8, &s4, &u4};
}  // namespace detail

// Every datapath as a DatapathSpec: the float rows above, then the integer rows (listed once, as
// sm_80; find_datapath gives them to every architecture).
inline constexpr auto datapath_table = [] {
  std::array<DatapathSpec, std::size(datapath_rows) + std::size(detail::integer_inputs)> table{};
  std::size_t i = 0;
  for (const DatapathRow& row : datapath_rows) table[i++] = detail::fp_spec(row);
  for (const FormatSpec* in : detail::integer_inputs) table[i++] = detail::int_spec(*in);
  return table;
}();

// The evidence row of a float datapath; nullptr when there is none (integer, or no such path).
constexpr const DatapathRow* find_datapath_row(Arch arch, const FormatSpec& in, const FormatSpec& out) {
  for (const DatapathRow& row : datapath_rows)
    if (row.arch == arch && *row.in == in && *row.out == out) return &row;
  return nullptr;
}

// The datapath of `arch` for D = A*B + C with the given formats; nullopt when the GPU has no such
// tensor-core path (or none is modelled: sm_100 fp8, whose warp-level instructions are lowered,
// InstructionDatapath). Every architecture has the exact integer rows; a float path exists only
// where `datapath_rows` lists it; mixed fp8 (e4m3 x e5m2) uses the shared fp8 parameters; mixed integer signedness is allowed
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
  // fp8 exists from sm_89 (PTX ISA 8.4); mixed e4m3 x e5m2 runs the row of A's format.
  if (const DatapathRow* row = find_datapath_row(arch, a, out)) {
    DatapathSpec spec = detail::fp_spec(*row);
    spec.b_format = &b;
    return spec;
  }
  return std::nullopt;
}

}  // namespace twofour::sim::spec
