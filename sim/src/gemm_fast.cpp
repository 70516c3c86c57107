// The GEMM level's fast path (docs/simulator.md §Fast path): every operand decoded once
// (gemm_fast_decode.hpp), B packed per 16 output columns, A laid out step-major with the B row
// each stored value meets, and the block-FMA model (or the integer sum) run by the
// per-instruction-set kernels of gemm_fast_kernels.hpp over 128-row blocks. Elements whose inputs
// or accumulator hold Inf/NaN go through the generic per-element path. gemm_kernels_test.cpp
// checks every kernel is bit-identical to the generic path (run_tile per tile) on random,
// adversarial and special inputs, on every instruction set the CPU has.
#include "gemm_fast.hpp"

#include "gemm_fast_decode.hpp"
#include "gemm_fast_kernels.hpp"
#include "twofour/sim/fp8_lowering.hpp"
#include "twofour/sim/spec/block_sum.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <string>

namespace twofour::sim::gemm_detail {

std::uint32_t finish_lane(const KernelSpec& s, std::int64_t sum, float em) {
  const float e = std::fmax(-1000.0f, std::fmin(1000.0f, em));  // NaN -> 1000 (fmin drops a NaN)
  return spec::round_block_sum(*s.out, sum, static_cast<int>(e) - s.fraction_bits, s.rounding, s.overflow_to_infinity,
                               s.result_fraction_bits);
}

namespace {

using spec::FormatSpec;

struct FastPlan {
  KernelSpec ks{};
  bool integer = false;
};

std::optional<FastPlan> make_plan(const spec::Instruction& instr, const InstructionDatapath& dp,
                                  SparseGrouping grouping) {
  FastPlan plan;
  const spec::DatapathSpec& d = dp.spec();
  plan.integer = d.is_integer();
  if (plan.integer) return plan;
  if (!(*d.out_format == spec::fp32) && !(*d.out_format == spec::fp16)) return std::nullopt;
  if (!d.subnormal_inputs || !d.subnormal_outputs) return std::nullopt;
  KernelSpec& ks = plan.ks;
  ks.out = d.out_format;
  ks.fraction_bits = d.fraction_bits();
  // Significand products need at most 24 bits (exact in fp32), and terms below 2^(F + 2) must
  // leave room in an int32 for at least one product besides c's term.
  const int product_bits = d.a_format->mantissa_bits + d.b_format->mantissa_bits + 2;
  if (product_bits > 24 || ks.fraction_bits + 3 > 31 || d.block_size <= 0 || d.block_size > 64) return std::nullopt;
  ks.min_exp_limit = d.min_exp_limit;
  ks.result_fraction_bits = d.result_fraction_bits;
  ks.rounding = d.rounding;
  ks.overflow_to_infinity = d.overflow_to_infinity;
  ks.fp16_out = *d.out_format == spec::fp16;
  ks.add_c_last = dp.lowering() == Lowering::fp8_via_fp16_sm90;
  // fp16 and fp8 inputs: any product of two values is exact (run_float decides for bf16 and tf32
  // from the operands' exponents).
  const spec::FormatSpec& fa = *d.a_format;
  const spec::FormatSpec& fb = *d.b_format;
  ks.raw_products = products_are_exact({fa.min_exponent(), fa.max_exponent()}, fa.mantissa_bits,
                                       {fb.min_exponent(), fb.max_exponent()}, fb.mantissa_bits);
  // The grouping decision (tile.hpp), expressed as a run of consecutive stored products. Under
  // logical_k a block of n logical K is n / chunk_width chunks, i.e. a contiguous run of stored
  // values (chunk_width divides n for every row).
  ks.block_stored = d.block_size;
  if (instr.is_sparse() && grouping == SparseGrouping::logical_k) {
    if (d.block_size % instr.chunk_width() != 0) return std::nullopt;
    ks.block_stored = d.block_size / instr.chunk_width() * instr.stored_per_chunk();
  }
  // |product term| < 2^(F + 2), |c's term| < 2^(F + 1): how many products an int32 sum holds.
  const std::int64_t room = (std::int64_t{1} << 31) - 1 - (std::int64_t{1} << (ks.fraction_bits + 1));
  ks.sub_block = static_cast<int>(room / (std::int64_t{1} << (ks.fraction_bits + 2)));
  ks.wide = ks.sub_block < ks.block_stored;
  if (ks.block_stored - ks.block_stored / 2 > ks.sub_block) return std::nullopt;  // two int32 halves must do
  if (!ks.fp16_out && d.rounding == spec::RoundingMode::toward_zero && d.result_fraction_bits <= 23)
    ks.finish = VectorFinish::fp32_rz;
  else if (ks.fp16_out && d.rounding == spec::RoundingMode::nearest_even && d.result_fraction_bits >= 10)
    ks.finish = VectorFinish::fp16_rne;
  return plan;
}

std::int32_t int_value(const FormatSpec& f, std::uint32_t bits) {
  const std::uint32_t x = bits & f.container_mask();
  if (!f.is_signed) return static_cast<std::int32_t>(x);
  const int unused = 32 - f.bits;
  return static_cast<std::int32_t>(x << unused) >> unused;
}

// 64-byte aligned storage for packed operands (a 16-lane group row is one or two cache lines).
template <class T>
std::unique_ptr<T[], decltype(&std::free)> aligned_array(std::size_t count) {
  std::unique_ptr<T[], decltype(&std::free)> p(static_cast<T*>(std::aligned_alloc(64, (count * sizeof(T) + 63) / 64 * 64)),
                                               &std::free);
  if (!p) throw std::bad_alloc();
  return p;
}

// Rows are independent chains, so a task takes kBlockRows of them (not one 16-row tile): each
// k-step's packed B rows (4 KB) are then reused from L1 by 128 rows.
constexpr int kBlockRows = 128;

// Integer rows: the exact sums of blockfma.cpp dot_int, by the instruction set's kernel.
Tile run_integer(const spec::Instruction& instr, const InstructionDatapath& dp, const GemmOperands& ops,
                 const Shape& s, const std::vector<std::int32_t>& cols, const GemmOptions& options,
                 KernelIsa& isa_used) {
  const KernelTable& kernels = resolve_kernels(options.isa);
  isa_used = kernels.isa;
  Tile d = ops.c;
  const int a_step = instr.is_sparse() ? instr.stored_k() : instr.k;
  const int groups_n = (s.n + kGroup - 1) / kGroup, blocks_m = (s.m + kBlockRows - 1) / kBlockRows;
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  const spec::DatapathSpec& ds = dp.spec();
  std::vector<std::int32_t> a_val(sz(s.m, s.a_cols)), a_off(sz(s.m, s.a_cols));
#pragma omp parallel for num_threads(threads)
  for (int i = 0; i < s.m; ++i) {
    for (int c = 0; c < s.a_cols; ++c) {
      const std::size_t e = sz(i, s.a_cols) + sz(c);
      const int step = c / a_step, p = c % a_step;
      a_val[e] = int_value(*ds.a_format, ops.a.bits[e]);
      a_off[e] = (step * instr.k + (instr.is_sparse() ? cols[e] : p)) * kGroup;
    }
  }
  const auto bpack_owner = aligned_array<std::int32_t>(sz(groups_n) * sz(s.k) * kGroup);
  std::int32_t* const bpack = bpack_owner.get();
#pragma omp parallel for num_threads(threads)
  for (int tg = 0; tg < groups_n; ++tg)
    for (int k = 0; k < s.k; ++k)
      for (int j = 0; j < kGroup; ++j) {
        const int col = tg * kGroup + j;
        bpack[(sz(tg, s.k) + sz(k)) * kGroup + sz(j)] = col < s.n ? int_value(*ds.b_format, ops.b.at(k, col)) : 0;
      }
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::uint32_t> acc(sz(kBlockRows) * kGroup);
#pragma omp for schedule(dynamic) collapse(2)
    for (int bi = 0; bi < blocks_m; ++bi) {
      for (int tg = 0; tg < groups_n; ++tg) {
        const int j0 = tg * kGroup, width = std::min(kGroup, s.n - j0);
        const int i0 = bi * kBlockRows, rows = std::min(kBlockRows, s.m - i0);
        for (int r = 0; r < rows; ++r)
          for (int j = 0; j < kGroup; ++j) acc[sz(r) * kGroup + sz(j)] = j < width ? ops.c.at(i0 + r, j0 + j) : 0u;
        const IntRowsArgs args{a_val.data() + sz(i0, s.a_cols), a_off.data() + sz(i0, s.a_cols), sz(s.a_cols), a_step,
                               s.steps, bpack + sz(tg, s.k) * kGroup, acc.data(), rows, ds.satfinite};
        kernels.run_int_rows(args);
        for (int r = 0; r < rows; ++r)
          for (int j = 0; j < width; ++j) d.at(i0 + r, j0 + j) = acc[sz(r) * kGroup + sz(j)];
      }
    }
  }
  return d;
}

// Float rows: decode, pack, then per (64-row block, 16-column group) the k-steps in order, each
// through the instruction set's kernel; lanes the kernel skips (Inf/NaN among the inputs or in
// the accumulator) through the generic element path.
Tile run_float(const spec::Instruction& instr, const InstructionDatapath& dp, const FastPlan& plan,
               const GemmOperands& ops, const Shape& s, const std::vector<std::int32_t>& cols,
               const GemmOptions& options, std::size_t& fallbacks, KernelIsa& isa_used) {
  const KernelTable& kernels = resolve_kernels(options.isa);
  isa_used = kernels.isa;
  Tile d = ops.c;
  const int a_step = instr.is_sparse() ? instr.stored_k() : instr.k;
  const int groups_n = (s.n + kGroup - 1) / kGroup;
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  const spec::DatapathSpec& ds = dp.spec();
  KernelSpec ks = plan.ks;
  // fp16, fp8: the formats' own ranges; bf16, tf32: the operands' (values as operands when these
  // ones allow it).
  ExponentRange a_range{ds.a_format->min_exponent(), ds.a_format->max_exponent()};
  ExponentRange b_range{ds.b_format->min_exponent(), ds.b_format->max_exponent()};
  if (!ks.raw_products && !ks.add_c_last) {
    a_range = exponent_range(*ds.a_format, ops.a.bits, threads);
    b_range = exponent_range(*ds.b_format, ops.b.bits, threads);
    ks.raw_products = products_are_exact(a_range, ds.a_format->mantissa_bits, b_range, ds.b_format->mantissa_bits);
  }
  // fp32 output: every block result is at most |C| + K * max|a| * max|b| in magnitude (RZ and the
  // truncated terms only shrink it); below 2^127 no block can overflow to Inf, and the kernels
  // skip that check and the carrying of an Inf from block to block. (fp16 output keeps both.)
  if (!ks.fp16_out && !ks.add_c_last) {
    const ExponentRange c_range = exponent_range(spec::fp32, ops.c.bits, threads);
    const int products = a_range.lo > a_range.hi || b_range.lo > b_range.hi ? -1000 : a_range.hi + b_range.hi + 2;
    const int c_top = c_range.lo > c_range.hi ? -1000 : c_range.hi + 1;
    const double bound = std::ldexp(1.0, c_top) + static_cast<double>(s.k) * std::ldexp(1.0, products);
    ks.may_overflow = !(bound < std::ldexp(1.0, 127));
  }

  // Lowered rows (sm_90 fp8, fp8_lowering.hpp): the tensor core sees the inputs converted to fp16,
  // in two HMMAs (the elements of the low register halves, then the high halves) starting from
  // C = +0, and the instruction's C is added by an IEEE RN add after them. Putting each k-step's
  // stored A elements in pass order makes the passes consecutive runs of blocks, which the
  // kernel chains; the B rows they meet follow that order.
  std::vector<int> pass_order(sz(a_step));
  for (int p = 0; p < a_step; ++p) pass_order[sz(p)] = p;
  if (ks.add_c_last)
    std::stable_sort(pass_order.begin(), pass_order.end(),
                     [](int x, int y) { return lowered_pass(sz(x), 2) < lowered_pass(sz(y), 2); });
  // Inf/NaN among a row's stored A values of a step, or a B column's K values of a step: those
  // (element, step) pairs go through the generic element path (whole-row specials, model step 1).
  std::vector<std::uint8_t> a_special(sz(s.m, s.steps), 0);
  std::vector<std::uint32_t> b_skip(sz(s.steps, groups_n), 0);
  const OperandDecoder a_decoder(dp, *instr.a, *ds.a_format, ks.raw_products, ops.a.bits.size());
  const OperandDecoder b_decoder(dp, *instr.b, *ds.b_format, ks.raw_products, ops.b.bits.size());

  // A in pass order, with the packed-B offset of the K row each stored value meets; step-major
  // (all rows' values of step 0, then of step 1, ...), so that the kernel reads each step's rows
  // sequentially.
  const std::size_t a_size = sz(s.m, s.a_cols);
  std::vector<float> a_val(a_size);
  std::vector<std::int32_t> a_exp(a_size), a_off(a_size);
#pragma omp parallel for num_threads(threads)
  for (int i = 0; i < s.m; ++i) {
    for (int step = 0; step < s.steps; ++step) {
      const std::size_t row_seg = sz(i, s.a_cols) + sz(step * a_step);
      const std::size_t seg = (sz(step, s.m) + sz(i)) * sz(a_step);
      bool special = false;
      for (int q = 0; q < a_step; ++q) {
        const std::size_t src = row_seg + sz(pass_order[sz(q)]);
        const int row = step * instr.k + (instr.is_sparse() ? cols[src] : pass_order[sz(q)]);
        special |= !a_decoder.decode(ops.a.bits[src], a_val[seg + sz(q)], a_exp[seg + sz(q)]);
        a_off[seg + sz(q)] = row * kPackedRow;
      }
      a_special[sz(i, s.steps) + sz(step)] = special ? 1 : 0;
    }
  }
  // B per 16-column group: each K row's 16 values, then 16 exponents (columns past N: zero).
  // 64-byte aligned: every 16-float half of a packed row is one cache line, one zmm load.
  const std::size_t bpack_size = sz(groups_n) * sz(s.k) * kPackedRow;
  const auto bpack_owner = aligned_array<std::uint32_t>(bpack_size);
  std::uint32_t* const bpack = bpack_owner.get();
#pragma omp parallel for num_threads(threads)
  for (int tg = 0; tg < groups_n; ++tg) {
    for (int k = 0; k < s.k; ++k) {
      std::uint32_t* dst = bpack + (sz(tg, s.k) + sz(k)) * kPackedRow;
      std::uint32_t& skip = b_skip[sz(k / instr.k, groups_n) + sz(tg)];
      for (int j = 0; j < kGroup; ++j) {
        const int col = tg * kGroup + j;
        float value = 0.0f;
        std::int32_t x = kZeroExponent;
        if (col < s.n && !b_decoder.decode(ops.b.at(k, col), value, x)) skip |= 1u << j;
        dst[j] = std::bit_cast<std::uint32_t>(value);
        dst[kGroup + j] = static_cast<std::uint32_t>(x);
      }
    }
  }

  const SparseGrouping grouping = options.execution.grouping;
  const int blocks_m = (s.m + kBlockRows - 1) / kBlockRows;
  std::atomic<std::size_t> fallback_count{0};
#pragma omp parallel num_threads(threads)
  {
    ElementScratch scratch;
    std::vector<std::uint32_t> b_column(sz(instr.k));
    std::vector<std::uint32_t> acc_tile(sz(kBlockRows) * kGroup), skip(sz(kBlockRows));
    std::size_t local_fallbacks = 0;
#pragma omp for schedule(dynamic) collapse(2)
    for (int bi = 0; bi < blocks_m; ++bi) {
      for (int tg = 0; tg < groups_n; ++tg) {
        const int j0 = tg * kGroup, width = std::min(kGroup, s.n - j0);
        const int i0 = bi * kBlockRows, rows = std::min(kBlockRows, s.m - i0);
        for (int r = 0; r < rows; ++r)
          for (int j = 0; j < kGroup; ++j)
            acc_tile[sz(r) * kGroup + sz(j)] = j < width ? ops.c.at(i0 + r, j0 + j) : 0u;
        // Steps outermost: one k-step's packed B rows stay in L1 across the block's rows.
        for (int step = 0; step < s.steps; ++step) {
          for (int r = 0; r < rows; ++r)
            skip[sz(r)] = a_special[sz(i0 + r, s.steps) + sz(step)] != 0 ? 0xffffu : b_skip[sz(step, groups_n) + sz(tg)];
          const std::size_t a0 = (sz(step, s.m) + sz(i0)) * sz(a_step);
          const StepArgs args{&ks, a_val.data() + a0, a_exp.data() + a0, a_off.data() + a0, sz(a_step), a_step,
                              bpack + sz(tg, s.k) * kPackedRow, acc_tile.data(), skip.data(), rows};
          kernels.run_step(args);
          for (int r = 0; r < rows; ++r) {
            if (skip[sz(r)] == 0) continue;
            const int i = i0 + r;
            const std::size_t arow = sz(i, s.a_cols) + sz(step * a_step);
            const std::span<const std::uint32_t> a_row(ops.a.bits.data() + arow, sz(a_step));
            const std::span<const int> columns(instr.is_sparse() ? cols.data() + arow : nullptr,
                                               instr.is_sparse() ? sz(a_step) : 0u);
            for (int j = 0; j < width; ++j) {
              if ((skip[sz(r)] >> j & 1u) == 0) continue;
              for (int k = 0; k < instr.k; ++k) b_column[sz(k)] = ops.b.at(step * instr.k + k, j0 + j);
              std::uint32_t& acc = acc_tile[sz(r) * kGroup + sz(j)];
              acc = element_dot(instr, dp, grouping, a_row, columns, b_column, acc, scratch);
              ++local_fallbacks;
            }
          }
        }
        for (int r = 0; r < rows; ++r)
          for (int j = 0; j < width; ++j) d.at(i0 + r, j0 + j) = acc_tile[sz(r) * kGroup + sz(j)];
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
                                  std::size_t& fallbacks, KernelIsa& isa_used) {
  const std::optional<FastPlan> plan = make_plan(instr, dp, options.execution.grouping);
  if (!plan) return std::nullopt;
  if (plan->integer) return run_integer(instr, dp, ops, s, cols, options, isa_used);
  return run_float(instr, dp, *plan, ops, s, cols, options, fallbacks, isa_used);
}

}  // namespace twofour::sim::gemm_detail
