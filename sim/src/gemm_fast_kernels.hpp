#pragma once
// Private to sim/src: the GEMM fast path's per-instruction-set kernels. gemm_fast.cpp (baseline
// x86-64) decodes and packs the operands, handles Inf/NaN through the generic element path and
// runs OpenMP; it calls one kernel per (block of up to 128 rows, 16-column group, k-step) through
// the table of the instruction set in use. gemm_fast_kernel.inl is the one kernel source; each
// gemm_fast_<isa>.cpp includes it with its own lane type and -m flags, and keeps everything but
// its table internal, so no function compiled for AVX can be linked into a baseline caller.
//
// The arithmetic (docs/simulator.md §Fast path): an operand element is a float (its value, or its
// signed significand in (-2, 2)) and the model's exponent (floor(log2|x|), e_min for subnormals)
// as an int32. Products are exact in fp32; scaled by 2^(F - E) (values) or 2^(x_a + x_b + F - E)
// (significands) and truncated toward zero they are the model's terms, exactly (the scaling is
// exact whenever the term is non-zero). Terms add exactly in int32 (int64 where a block's sum
// wraps), and the block's sum is rounded by the reference spec::round_block_sum or by an
// instruction sequence proved equal to it.
#include "twofour/sim/kernel_isa.hpp"
#include "twofour/sim/spec/format.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <cstddef>
#include <cstdint>

namespace twofour::sim::gemm_detail {

// Output columns per kernel call: one packed B group.
inline constexpr int kGroup = 16;
// 32-bit words per packed B row of a group: 16 float significands (values under raw_products), then
// 16 int32 exponents.
inline constexpr int kPackedRow = 2 * kGroup;
// Exponent given to zero operands: far below any min_exp_limit, so a zero product never sets the
// block's exponent (the model drops zero products), and its scaled term is 0. Exact as a float;
// the sum of two stays far from int32's limits.
inline constexpr std::int32_t kZeroExponent = -(1 << 20);

enum class VectorFinish : std::uint8_t {
  per_lane,  // spec::round_block_sum lane by lane
  fp32_rz,   // fp32 output, round toward zero (any result_fraction_bits <= 23)
  fp16_rne,  // fp16 output, round to nearest even, all 10 fraction bits
};

// The datapath as the kernels need it (from spec::DatapathSpec, instruction_datapath.hpp).
struct KernelSpec {
  const spec::FormatSpec* out = nullptr;
  int fraction_bits = 0;  // F = 23 + neab
  int min_exp_limit = 0;
  int result_fraction_bits = 0;
  spec::RoundingMode rounding = spec::RoundingMode::toward_zero;
  bool overflow_to_infinity = false;
  bool fp16_out = false;
  int block_stored = 0;  // stored products per datapath block (the grouping decision)
  int sub_block = 0;     // products whose terms (plus c's) provably fit an int32 sum
  bool wide = false;     // sub_block < block_stored: a block sums in two int32 halves, and a lane
                         // whose total wraps is summed again in int64
  bool add_c_last = false;  // lowered fp8 rows: blocks start from +0, C added by an IEEE RN add
  bool raw_products = false;  // operands held as values (not significands): their products are exact
  bool may_overflow = true;   // false: no block result can reach 2^128 (the operands bound every sum)
  VectorFinish finish = VectorFinish::per_lane;
};

// One k-step for `rows` rows of A against one 16-column group of B.
struct StepArgs {
  const KernelSpec* spec;
  const float* a_val;        // row 0's first stored value of this step (significand, or value
                             // under raw_products)
  const std::int32_t* a_exp;  // its model exponent
  const std::int32_t* a_off;  // the float offset of the B row it meets, in the packed group
  std::size_t a_stride;      // elements between consecutive rows of the three arrays above
  int count;                 // stored values of a row per step
  const std::uint32_t* b;    // the packed group: per K row, kGroup float values, kGroup int32 exponents
  std::uint32_t* acc;        // rows x 16 accumulator bit patterns (D format), updated in place
  std::uint32_t* skip;       // per row, in: lanes the caller runs generically; out: plus lanes whose
                             // accumulator held Inf/NaN. Skipped lanes are left unchanged.
  int rows;
};

// Integer rows: every k-step of `rows` rows against one 16-column group (blockfma.cpp dot_int:
// the exact step sum, then wrap modulo 2^32 or clamp under .satfinite). A step's products sum in
// int32 exactly: at most 64 stored products of at most 255 * 255 in magnitude.
struct IntRowsArgs {
  const std::int32_t* a_val;  // row 0's stored values, every step (sign-extended)
  const std::int32_t* a_off;  // the int32 offset of the B row each meets, in the packed group
  std::size_t a_stride;       // elements between consecutive rows
  int count;                  // stored values of a row per step
  int steps;
  const std::int32_t* b;      // the packed group: kGroup int32 per K row
  std::uint32_t* acc;         // rows x 16 accumulators (s32 bit patterns), updated in place
  int rows;
  bool satfinite;
};

struct KernelTable {
  KernelIsa isa;
  void (*run_step)(const StepArgs&);
  void (*run_int_rows)(const IntRowsArgs&);
};

// spec::round_block_sum for one lane: `sum` in units of 2^(em - F), em the block's exponent E.
// Defined in a baseline translation unit (gemm_fast.cpp), so the kernels' per-lane rounding is
// the reference's own code. Lanes whose accumulator is Inf carry meaningless em and sum: the
// result is then discarded, and em is clamped so that converting it stays defined.
std::uint32_t finish_lane(const KernelSpec& s, std::int64_t sum, float em);

namespace scalar { const KernelTable& table(); }
namespace avx2 { const KernelTable& table(); }
namespace avx512 { const KernelTable& table(); }

// The table for `requested` (automatic = default_kernel_isa()); throws std::runtime_error when
// the CPU lacks it (kernel_isa.cpp).
const KernelTable& resolve_kernels(KernelIsa requested);

}  // namespace twofour::sim::gemm_detail
