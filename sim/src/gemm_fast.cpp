// The GEMM level's fast path: every operand pre-decoded once, the block-FMA model run vectorised
// across 8 output columns. It follows blockfma.cpp's finite_block step for step (the comments map
// each line to the model in blockfma.hpp) and finishes every block through the same
// spec::round_block_sum; gemm_test.cpp checks it is bit-identical to the generic path (run_tile
// per tile) on random, extreme and special inputs.
#include "gemm_fast.hpp"

#include "twofour/sim/fp8_lowering.hpp"
#include "twofour/sim/spec/block_sum.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <limits>
#include <span>
#include <string>

namespace twofour::sim::gemm_detail {
namespace {

using spec::FormatSpec;

// Exponent given to zero operands: far below any min_exp_limit, so a zero product never sets the
// block's alignment exponent (the model drops zero products) and its term shifts out entirely.
constexpr std::int32_t kZeroExponent = -(1 << 20);

// One operand element, pre-decoded: |value| = mag * 2^(x - mantissa_bits), sign separately (0/1),
// x the model's exponent (floor(log2|v|), or e_min for subnormals). Unsigned magnitudes keep the
// kernel's shifts logical, which AVX2/AVX-512 vectorise (vpsllvq/vpsrlvq).
struct DecodedOperand {
  std::vector<std::uint32_t> mag, neg;
  std::vector<std::int32_t> x;
  std::vector<std::uint8_t> special;  // Inf or NaN
};

DecodedOperand decode_operand(const FormatSpec& f, const std::vector<std::uint32_t>& bits) {
  DecodedOperand d;
  d.mag.assign(bits.size(), 0);
  d.neg.assign(bits.size(), 0);
  d.x.assign(bits.size(), 0);
  d.special.assign(bits.size(), 0);
  const std::uint32_t exp_mask = (1u << f.exponent_bits) - 1u, man_mask = (1u << f.mantissa_bits) - 1u;
  const std::uint32_t sign_bit = 1u << (f.container_bits - 1);
  for (std::size_t i = 0; i < bits.size(); ++i) {
    const std::uint32_t v = bits[i];
    const spec::FpClass cls = spec::classify(f, v);
    d.special[i] = cls == spec::FpClass::infinity || cls == spec::FpClass::nan;
    const std::uint32_t e = (v >> (f.ignored_low_bits + f.mantissa_bits)) & exp_mask;
    const std::uint32_t m = (v >> f.ignored_low_bits) & man_mask;
    d.mag[i] = e == 0 ? m : (m | (man_mask + 1u));
    d.neg[i] = (v & sign_bit) != 0 ? 1u : 0u;
    d.x[i] = d.mag[i] == 0 ? kZeroExponent : (e == 0 ? f.min_exponent() : static_cast<std::int32_t>(e) - f.bias);
  }
  return d;
}

struct FastSpec {
  const FormatSpec* out;
  int fraction_bits;     // F = 23 + neab
  int product_shift;     // S = F - man_a - man_b >= 0: products pre-scaled to units of 2^(E - F)
  int c_left, c_right;   // c (24-bit significand, lsb 2^(ec - 23)) scaled by 2^neab
  int min_exp_limit;
  int result_fraction_bits;
  spec::RoundingMode rounding;
  bool overflow_to_infinity;
  bool fp16_out;
};

// c in the model's terms: a 24-bit significand with lsb 2^(ec - 23), ec = floor(log2|c|) but at
// least -126 (blockfma.hpp step 3: c is read as fp32 even for fp16 output).
inline void decode_accumulator(bool fp16_out, std::uint32_t bits, std::int64_t& sig, std::int32_t& ec, bool& neg) {
  if (fp16_out) {
    const std::uint32_t e = (bits >> 10) & 0x1fu, m = bits & 0x3ffu;
    neg = (bits & 0x8000u) != 0;
    if (e == 0) {
      if (m == 0) {
        sig = 0;
        ec = kZeroExponent;
        return;
      }
      const int msb = 31 - std::countl_zero(m);
      sig = static_cast<std::int64_t>(m) << (23 - msb);
      ec = msb - 24;
      return;
    }
    sig = static_cast<std::int64_t>(m | 0x400u) << 13;
    ec = static_cast<std::int32_t>(e) - 15;
    return;
  }
  const std::uint32_t e = (bits >> 23) & 0xffu, m = bits & 0x7fffffu;
  neg = (bits >> 31) != 0;
  if (e == 0) {
    sig = m;
    ec = m == 0 ? kZeroExponent : -126;
    return;
  }
  sig = m | 0x800000u;
  ec = static_cast<std::int32_t>(e) - 127;
}

inline std::uint32_t finish(const FastSpec& fs, std::int64_t sum, std::int32_t emax) {
  return spec::round_block_sum(*fs.out, sum, emax - fs.fraction_bits, fs.rounding, fs.overflow_to_infinity,
                               fs.result_fraction_bits);
}

constexpr int kLanes = 8;  // output columns per kernel call: one 16 x 8 tile's width
// Decoded B, packed per group of 8 columns: for each K row, 8 words magnitude | sign << 31, then
// 8 exponents: one 64-byte line per (row, group), contiguous along K for a group.
constexpr std::size_t kPackedRow = 2 * kLanes;

// One block of `count` products (A values `sa/xa`, B rows `rows`) plus the accumulator, for 8
// adjacent output columns. Follows blockfma.cpp finite_block: E = max(product exponents, c's,
// min_exp_limit); every term truncated (magnitude) to units of 2^(E - F); exact integer sum.
inline __attribute__((always_inline)) void block_body(const FastSpec& fs, const std::uint32_t* ma,
                                                      const std::uint32_t* na, const std::int32_t* xa,
                                                      const std::int32_t* rows, int count, const std::uint32_t* bp,
                                                      std::uint32_t* acc) {
  // 8 lanes as GCC vector-extension types: each target_clones copy lowers them to its own ISA
  // (one zmm under AVX-512, two ymm under AVX2, scalar code otherwise).
  using u32x8 = std::uint32_t __attribute__((vector_size(32)));
  using i32x8 = std::int32_t __attribute__((vector_size(32)));
  using u64x8 = std::uint64_t __attribute__((vector_size(64)));

  // The accumulator c in the model's terms (decode_accumulator, vectorised for fp32).
  u64x8 csig;
  i32x8 ec;
  u64x8 cneg;
  if (fs.fp16_out) {
    std::int64_t s[kLanes];
    std::int32_t e[kLanes];
    std::uint64_t n[kLanes];
    for (int j = 0; j < kLanes; ++j) {
      bool neg = false;
      decode_accumulator(true, acc[j], s[j], e[j], neg);
      n[j] = neg ? 1u : 0u;
    }
    std::memcpy(&csig, s, sizeof csig);
    std::memcpy(&ec, e, sizeof ec);
    std::memcpy(&cneg, n, sizeof cneg);
  } else {
    u32x8 a;
    std::memcpy(&a, acc, sizeof a);
    const u32x8 e = (a >> 23) & 0xffu, m = a & 0x7fffffu;
    const i32x8 zero_or_sub = m == 0u ? i32x8{} + kZeroExponent : i32x8{} - 126;
    ec = e == 0u ? zero_or_sub : __builtin_convertvector(e, i32x8) - 127;
    csig = __builtin_convertvector(e == 0u ? m : (m | 0x800000u), u64x8);
    cneg = __builtin_convertvector(a >> 31, u64x8);
  }
  i32x8 em = ec > fs.min_exp_limit ? ec : i32x8{} + fs.min_exp_limit;
  for (int p = 0; p < count; ++p) {
    i32x8 xv;
    std::memcpy(&xv, bp + static_cast<std::size_t>(rows[p]) * kPackedRow + kLanes, sizeof xv);
    xv += xa[p];
    em = xv > em ? xv : em;
  }
  u64x8 sum = {};  // two's complement, exact: |sum| < 2^(F + 8)
  const int shift = fs.product_shift;
  const i32x8 cap = i32x8{} + 63;
  for (int p = 0; p < count; ++p) {
    const std::uint32_t* row = bp + static_cast<std::size_t>(rows[p]) * kPackedRow;
    u32x8 mv;
    i32x8 xv;
    std::memcpy(&mv, row, sizeof mv);
    std::memcpy(&xv, row + kLanes, sizeof xv);
    const u32x8 nv = mv >> 31;  // sign packed in bit 31
    mv &= 0x7fffffffu;
    const u64x8 prod = __builtin_convertvector(mv, u64x8) * static_cast<std::uint64_t>(ma[p]);  // exact
    i32x8 d = em - (xv + xa[p]);
    d = d > cap ? cap : d;
    const u64x8 t = (prod << shift) >> __builtin_convertvector(d, u64x8);  // magnitude truncated
    const u64x8 neg = __builtin_convertvector(nv ^ na[p], u64x8);          // 0 or 1
    sum += (t ^ (0u - neg)) + neg;                                         // +t or -t
  }
  {  // c's term: (sig << max(neab, 0)) >> (E - ec + max(-neab, 0)), truncated, with c's sign
    i32x8 d = em - ec + fs.c_right;
    d = d > cap ? cap : d;
    const u64x8 t = (csig << fs.c_left) >> __builtin_convertvector(d, u64x8);
    sum += (t ^ (0u - cneg)) + cneg;
  }
  std::int64_t sums[kLanes];
  std::int32_t emax[kLanes];
  std::memcpy(sums, &sum, sizeof sums);
  std::memcpy(emax, &em, sizeof emax);
  for (int j = 0; j < kLanes; ++j) acc[j] = finish(fs, sums[j], emax[j]);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void block_kernel(
    const FastSpec& fs, const std::uint32_t* ma, const std::uint32_t* na, const std::int32_t* xa,
    const std::int32_t* rows, int count, const std::uint32_t* bp, std::uint32_t* acc) {
  block_body(fs, ma, na, xa, rows, count, bp, acc);
}

struct FastPlan {
  FastSpec fs{};
  bool integer = false;
  int block_stored = 0;  // stored products per datapath block (the grouping decision, in stored units)
};

std::optional<FastPlan> make_plan(const spec::Instruction& instr, const InstructionDatapath& dp,
                                  SparseGrouping grouping) {
  FastPlan plan;
  const spec::DatapathSpec& d = dp.spec();
  plan.integer = d.is_integer();
  if (plan.integer) return plan;
  if (!(*d.out_format == spec::fp32) && !(*d.out_format == spec::fp16)) return std::nullopt;
  FastSpec& fs = plan.fs;
  fs.out = d.out_format;
  fs.fraction_bits = d.fraction_bits();
  fs.product_shift = fs.fraction_bits - d.a_format->mantissa_bits - d.b_format->mantissa_bits;
  if (fs.product_shift < 0 || fs.fraction_bits + 2 > 40 || d.block_size <= 0 || d.block_size > 64) return std::nullopt;
  fs.c_left = std::max(d.neab, 0);
  fs.c_right = std::max(-d.neab, 0);
  fs.min_exp_limit = d.min_exp_limit;
  fs.result_fraction_bits = d.result_fraction_bits;
  fs.rounding = d.rounding;
  fs.overflow_to_infinity = d.overflow_to_infinity;
  fs.fp16_out = *d.out_format == spec::fp16;
  if (!d.subnormal_inputs || !d.subnormal_outputs) return std::nullopt;
  // The grouping decision (tile.hpp), expressed as a run of consecutive stored products. Under
  // logical_k a block of n logical K is n / chunk_width chunks, i.e. a contiguous run of stored
  // values (chunk_width divides n for every row).
  plan.block_stored = d.block_size;
  if (instr.is_sparse() && grouping == SparseGrouping::logical_k) {
    if (d.block_size % instr.chunk_width() != 0) return std::nullopt;
    plan.block_stored = d.block_size / instr.chunk_width() * instr.stored_per_chunk();
  }
  return plan;
}

std::int32_t int_value(const FormatSpec& f, std::uint32_t bits) {
  const std::uint32_t x = bits & f.container_mask();
  if (!f.is_signed) return static_cast<std::int32_t>(x);
  const int unused = 32 - f.bits;
  return static_cast<std::int32_t>(x << unused) >> unused;
}

Tile run_fast(const spec::Instruction& instr, const InstructionDatapath& dp, const FastPlan& plan,
              const GemmOperands& ops, const Shape& s, const std::vector<std::int32_t>& cols,
              const GemmOptions& options, std::size_t& fallbacks) {
  Tile d = ops.c;
  const int a_step = instr.is_sparse() ? instr.stored_k() : instr.k;
  const int tiles_m = s.m / instr.m, groups_n = s.n / kLanes;
  const std::size_t ldb = sz(s.n);
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  std::atomic<std::size_t> fallback_count{0};

  // Dense rows of B per stored A value, within its k-step (dense rows: the identity).
  std::vector<std::int32_t> dense_rows;
  const std::vector<std::int32_t>* rows_of = &cols;
  if (!instr.is_sparse()) {
    dense_rows.assign(sz(a_step), 0);
    for (int k = 0; k < a_step; ++k) dense_rows[sz(k)] = k;
  }

  if (plan.integer) {
    const spec::DatapathSpec& ds = dp.spec();
    std::vector<std::int32_t> av(ops.a.bits.size()), bv(ops.b.bits.size());
    for (std::size_t i = 0; i < av.size(); ++i) av[i] = int_value(*ds.a_format, ops.a.bits[i]);
    for (std::size_t i = 0; i < bv.size(); ++i) bv[i] = int_value(*ds.b_format, ops.b.bits[i]);
#pragma omp parallel for schedule(dynamic) collapse(2) num_threads(threads)
    for (int ti = 0; ti < tiles_m; ++ti) {
      for (int tg = 0; tg < groups_n; ++tg) {
        for (int i = ti * instr.m; i < (ti + 1) * instr.m; ++i) {
          std::int64_t acc[kLanes];
          for (int j = 0; j < kLanes; ++j) acc[j] = static_cast<std::int32_t>(ops.c.at(i, tg * kLanes + j));
          for (int step = 0; step < s.steps; ++step) {
            std::int64_t sum[kLanes];
            for (int j = 0; j < kLanes; ++j) sum[j] = acc[j];
            for (int p = 0; p < a_step; ++p) {
              const std::size_t ai = sz(i, s.a_cols) + sz(step * a_step + p);
              const std::int64_t a = av[ai];
              const int row = step * instr.k + (instr.is_sparse() ? cols[ai] : p);
              const std::int32_t* br = bv.data() + sz(row) * ldb + sz(tg * kLanes);
              for (int j = 0; j < kLanes; ++j) sum[j] += a * br[j];
            }
            for (int j = 0; j < kLanes; ++j) {  // blockfma.cpp dot_int: wrap, or clamp (.satfinite)
              std::int64_t v = sum[j];
              if (ds.satfinite) v = std::clamp<std::int64_t>(v, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max());
              acc[j] = static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v)));
            }
          }
          for (int j = 0; j < kLanes; ++j)
            d.at(i, tg * kLanes + j) = static_cast<std::uint32_t>(static_cast<std::int32_t>(acc[j]));
        }
      }
    }
    return d;
  }

  const spec::DatapathSpec& ds = dp.spec();
  // Lowered rows (sm_90 fp8, fp8_lowering.hpp): the tensor core sees the inputs converted to fp16,
  // in two HMMAs (the elements of the low register halves, then the high halves) starting from
  // C = +0, and the instruction's C is added by an IEEE RN add after them. Reordering each k-step's
  // stored A elements so that the first HMMA's come first makes the passes consecutive runs of
  // blocks, which the loop below already chains; the B rows they meet (fast_rows) follow that order.
  const bool add_c_last = dp.lowering() == Lowering::fp8_via_fp16_sm90;
  std::vector<int> pass_order(sz(a_step));
  for (int p = 0; p < a_step; ++p) pass_order[sz(p)] = p;
  if (add_c_last)
    std::stable_sort(pass_order.begin(), pass_order.end(),
                     [](int x, int y) { return lowered_pass(sz(x), 2) < lowered_pass(sz(y), 2); });
  const auto tensor_core_bits = [&](const spec::FormatSpec& f, const std::vector<std::uint32_t>& bits) {
    std::vector<std::uint32_t> out(bits.size());
    for (std::size_t i = 0; i < bits.size(); ++i) out[i] = dp.tensor_core_input(f, bits[i]);
    return out;
  };
  // Permutes every k-step segment of a row-major (rows x s.a_cols) array into pass order.
  const auto in_pass_order = [&]<class T>(const std::vector<T>& v) {
    std::vector<T> out(v.size());
    for (std::size_t seg = 0; seg < v.size(); seg += sz(a_step))
      for (int q = 0; q < a_step; ++q) out[seg + sz(q)] = v[seg + sz(pass_order[sz(q)])];
    return out;
  };
  const std::vector<std::uint32_t> a_tc = add_c_last ? in_pass_order(tensor_core_bits(*instr.a, ops.a.bits)) : std::vector<std::uint32_t>{};
  const std::vector<std::uint32_t> b_tc = add_c_last ? tensor_core_bits(*instr.b, ops.b.bits) : std::vector<std::uint32_t>{};
  const std::vector<std::int32_t> cols_fast = add_c_last && instr.is_sparse() ? in_pass_order(cols) : std::vector<std::int32_t>{};
  std::vector<std::int32_t> dense_rows_fast(dense_rows.size());
  for (std::size_t q = 0; q < dense_rows.size(); ++q) dense_rows_fast[q] = dense_rows[sz(pass_order[q])];
  const std::vector<std::int32_t>* rows_fast_of = add_c_last && instr.is_sparse() ? &cols_fast : rows_of;
  const DecodedOperand A = decode_operand(*ds.a_format, add_c_last ? a_tc : ops.a.bits);
  const DecodedOperand B = decode_operand(*ds.b_format, add_c_last ? b_tc : ops.b.bits);
  std::vector<std::uint32_t> bpack(sz(groups_n) * sz(s.k) * kPackedRow);
  for (int tg = 0; tg < groups_n; ++tg) {
    for (int k = 0; k < s.k; ++k) {
      std::uint32_t* dst = bpack.data() + (sz(tg, s.k) + sz(k)) * kPackedRow;
      for (int j = 0; j < kLanes; ++j) {
        const std::size_t e = sz(k, s.n) + sz(tg * kLanes + j);
        dst[j] = B.mag[e] | (B.neg[e] << 31);
        dst[kLanes + sz(j)] = static_cast<std::uint32_t>(B.x[e]);
      }
    }
  }
  // Any Inf/NaN among a row's stored A values of a step, or a B column's K values of a step: those
  // (element, step) pairs go through the generic element path (whole-row specials, step 1).
  std::vector<std::uint8_t> a_special(sz(s.m, s.steps), 0), b_special(sz(s.steps, s.n), 0);
  for (int i = 0; i < s.m; ++i)
    for (int c = 0; c < s.a_cols; ++c) a_special[sz(i, s.steps) + sz(c / a_step)] |= A.special[sz(i, s.a_cols) + sz(c)];
  for (int k = 0; k < s.k; ++k)
    for (int j = 0; j < s.n; ++j) b_special[sz(k / instr.k, s.n) + sz(j)] |= B.special[sz(k, s.n) + sz(j)];
  const spec::FormatSpec& out = *ds.out_format;
  // Inf/NaN accumulators: exponent field all ones (both output formats are IEEE-like).
  const std::uint32_t exp_ones = ((1u << out.exponent_bits) - 1u) << out.mantissa_bits;
  const auto special_acc = [exp_ones](std::uint32_t bits) { return (bits & exp_ones) == exp_ones; };
  const SparseGrouping grouping = options.execution.grouping;
  const int tile_rows = instr.m;

#pragma omp parallel num_threads(threads)
  {
    ElementScratch scratch;
    std::vector<std::uint32_t> b_column(sz(instr.k));
    std::vector<std::int32_t> rows_abs(sz(a_step));
    std::vector<std::uint32_t> acc_tile(sz(tile_rows) * kLanes);
    std::size_t local_fallbacks = 0;
#pragma omp for schedule(dynamic) collapse(2)
    for (int ti = 0; ti < tiles_m; ++ti) {
      for (int tg = 0; tg < groups_n; ++tg) {
        const int j0 = tg * kLanes;
        const std::uint32_t* bgroup = bpack.data() + sz(tg, s.k) * kPackedRow;
        for (int r = 0; r < tile_rows; ++r)
          for (int j = 0; j < kLanes; ++j) acc_tile[sz(r) * kLanes + sz(j)] = ops.c.at(ti * tile_rows + r, j0 + j);
        // Steps outermost: one k-step's B rows (a few KB) stay in L1 across the tile's rows.
        for (int step = 0; step < s.steps; ++step) {
          for (int r = 0; r < tile_rows; ++r) {
            const int i = ti * tile_rows + r;
            std::uint32_t* acc = acc_tile.data() + sz(r) * kLanes;
            const std::size_t a0 = sz(i, s.a_cols) + sz(step * a_step);
            const std::int32_t* local_rows = instr.is_sparse() ? rows_of->data() + a0 : dense_rows.data();
            const std::int32_t* fast_rows = instr.is_sparse() ? rows_fast_of->data() + a0 : dense_rows_fast.data();
            for (int p = 0; p < a_step; ++p) rows_abs[sz(p)] = step * instr.k + fast_rows[p];
            bool generic[kLanes];
            bool any_generic = false;
            const bool row_special = a_special[sz(i, s.steps) + sz(step)] != 0;
            for (int j = 0; j < kLanes; ++j) {
              generic[j] = row_special || b_special[sz(step, s.n) + sz(j0 + j)] != 0 || special_acc(acc[j]);
              any_generic = any_generic || generic[j];
            }
            std::uint32_t saved[kLanes];
            for (int j = 0; j < kLanes; ++j) saved[j] = acc[j];
            if (add_c_last)
              for (int j = 0; j < kLanes; ++j) acc[j] = 0u;  // the first HMMA's C is RZ (+0)
            if (!row_special) {
              for (int p0 = 0; p0 < a_step; p0 += plan.block_stored) {
                const int count = std::min(plan.block_stored, a_step - p0);
                std::uint32_t before[kLanes];
                for (int j = 0; j < kLanes; ++j) before[j] = acc[j];
                block_kernel(plan.fs, A.mag.data() + a0 + sz(p0), A.neg.data() + a0 + sz(p0), A.x.data() + a0 + sz(p0),
                             rows_abs.data() + p0, count, bgroup, acc);
                // An Inf from an overflowed block stays for the rest of the instruction.
                for (int j = 0; j < kLanes; ++j)
                  if (special_acc(before[j])) acc[j] = before[j];
              }
            }
            if (add_c_last)
              for (int j = 0; j < kLanes; ++j) acc[j] = float_add_rn(out, acc[j], saved[j]);  // generic lanes: redone below
            if (any_generic) {
              const std::span<const std::uint32_t> a_row(ops.a.bits.data() + a0, sz(a_step));
              const std::span<const int> columns(local_rows, instr.is_sparse() ? sz(a_step) : 0u);
              for (int j = 0; j < kLanes; ++j) {
                if (!generic[j]) continue;
                for (int k = 0; k < instr.k; ++k) b_column[sz(k)] = ops.b.at(step * instr.k + k, j0 + j);
                acc[j] = element_dot(instr, dp, grouping, a_row, columns, b_column, saved[j], scratch);
                ++local_fallbacks;
              }
            }
          }
        }
        for (int r = 0; r < tile_rows; ++r)
          for (int j = 0; j < kLanes; ++j) d.at(ti * tile_rows + r, j0 + j) = acc_tile[sz(r) * kLanes + sz(j)];
      }
    }
    fallback_count += local_fallbacks;
  }
  fallbacks = fallback_count.load();
  return d;
}

}  // namespace

bool fast_path_exists(const spec::Instruction& instr, const InstructionDatapath& dp, SparseGrouping grouping) {
  return make_plan(instr, dp, grouping).has_value();
}

std::optional<Tile> run_fast_path(const spec::Instruction& instr, const InstructionDatapath& dp, const GemmOperands& ops,
                                  const Shape& s, const std::vector<std::int32_t>& cols, const GemmOptions& options,
                                  std::size_t& fallbacks) {
  const std::optional<FastPlan> plan = make_plan(instr, dp, options.execution.grouping);
  if (!plan) return std::nullopt;
  return run_fast(instr, dp, *plan, ops, s, cols, options, fallbacks);
}

}  // namespace twofour::sim::gemm_detail
