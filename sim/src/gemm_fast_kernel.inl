// The GEMM fast path's kernel, one source for every instruction set (gemm_fast_kernels.hpp).
// Included by gemm_fast_<isa>.cpp inside an anonymous namespace, after it defines `V`, the lane
// type of its instruction set:
//   kWidth lanes; F (float lanes), I (32-bit lanes), Wide (kWidth int64 lanes)
//   load_f, bcast, add, sub, max, mul on F; load_i, store_i, zero_i, bcast_i, add_i, max_i (signed)
//   on I; to_float (exact for the exponents here)
//   term(p, k)      trunc(p * 2^k) for an exact product p and an integer k with |p * 2^k| < 2^27;
//                   correct whenever |p * 2^k| >= 1 (anything smaller truncates to 0)
//   c_term(c, q)    trunc(c * 2^q) for an accumulator value c with |c * 2^q| < 2^26, any integer q
//   acc_value(bits, fp16)  the accumulator's value as fp32 (exact); acc_exponent(c): the model's
//                   exponent of c (floor(log2|c|), at least -126; kZeroExponent for zero)
//   special(bits, fp16)    lanes (bit mask) holding Inf/NaN; select(lanes, a, b): a where set
//   add_rn(x, y, fp16)     IEEE round-to-nearest-even addition in the D format
//   add_overflows(a, b, a + b): lanes where the int32 sum wrapped
//   wide_zero, wide_add(Wide&, I); finish(spec, I sum, F em), finish_wide(spec, Wide, F em): the
//                   block's sum (units of 2^(em - F)) rounded as spec::round_block_sum does.
//
// Model (docs/datapath.md §Model, blockfma.cpp finite_block): per block, E = max(product
// exponents x_a + x_b, c's exponent, min_exp_limit); every term (product or c) in units of
// 2^(E - F), its magnitude truncated; the exact integer sum rounded once. With signed
// significands s (|s| < 2) the product is s_a * s_b * 2^(x_a + x_b), exact in fp32, so its term
// is trunc(s_a * s_b * 2^(x_a + x_b + F - E)): truncation toward zero of a signed value is the
// model's truncated magnitude with the product's sign. Under raw_products (fp16 and fp8
// always; bf16 and tf32 when the operands' exponents allow: gemm_fast.cpp) the operands are the
// values themselves, their product is exact in fp32, and the term is trunc(a * b * 2^(F - E)):
// one scaling per block instead of one exponent sum per product.

// A's stored values of one row, from the current product on.
struct RowView {
  const float* val;
  const std::int32_t* exp;
  const std::int32_t* off;
};

// Terms of one block (n products and c) of R independent rows for kWidth adjacent columns,
// rounded to the D format. R rows at once give the out-of-order core independent chains: inside
// a row every term waits for the previous block's result (c sets E). N > 0: n == N known at
// compile time (the loops unroll); N == 0: any n <= 64.
template <int N, int R, bool Raw>
inline __attribute__((always_inline)) void block(const KernelSpec& s, const RowView* rows, int n,
                                                 const std::uint32_t* b, typename V::I* acc) {
  using VF = typename V::F;
  using VI = typename V::I;
  constexpr int kMax = N > 0 ? N : 64;
  const int count = N > 0 ? N : n;
  VI x[R][kMax];
  VF em[R], c[R];
  for (int r = 0; r < R; ++r) {  // product exponents and their maximum (integer lanes): independent of c
    VI emi = V::bcast_i(s.min_exp_limit);
    for (int p = 0; p < count; ++p) {
      x[r][p] = V::add_i(V::load_i(b + rows[r].off[p] + kGroup), V::bcast_i(rows[r].exp[p]));
      emi = V::max_i(emi, x[r][p]);
    }
    em[r] = V::to_float(emi);
  }
  for (int r = 0; r < R; ++r) {
    c[r] = V::acc_value(acc[r], s.fp16_out);
    em[r] = V::max(em[r], V::acc_exponent(c[r]));
  }
  for (int r = 0; r < R; ++r) {
    const VF q = V::sub(V::bcast(static_cast<float>(s.fraction_bits)), em[r]);  // F - E
    VI sum = V::c_term(c[r], q);
    if (!s.wide) {
      for (int p = 0; p < count; ++p)
        sum = V::add_i(sum, V::term(V::mul(V::load_f(b + rows[r].off[p]), V::bcast(rows[r].val[p])), Raw ? q : V::add(V::to_float(x[r][p]), q)));
      acc[r] = V::finish(s, sum, em[r]);
      continue;
    }
    const auto product_term = [&](int p) {
      return V::term(V::mul(V::load_f(b + rows[r].off[p]), V::bcast(rows[r].val[p])), Raw ? q : V::add(V::to_float(x[r][p]), q));
    };
    if (count <= 2 * s.sub_block) {  // two int32 halves; int64 only when a lane's total overflows int32
      const int half = count / 2;
      VI second = V::zero_i();
      for (int p = 0; p < half; ++p) sum = V::add_i(sum, product_term(p));
      for (int p = half; p < count; ++p) second = V::add_i(second, product_term(p));
      const VI total = V::add_i(sum, second);  // modulo 2^32
      if (V::add_overflows(sum, second, total) == 0) {
        acc[r] = V::finish(s, total, em[r]);
        continue;
      }
      typename V::Wide wide = V::wide_zero();
      V::wide_add(wide, sum);
      V::wide_add(wide, second);
      acc[r] = V::finish_wide(s, wide, em[r]);
      continue;
    }
    typename V::Wide wide = V::wide_zero();
    int in_sum = 0;  // products in `sum` (s.sub_block of them fit with c's term)
    for (int p = 0; p < count; ++p) {
      if (in_sum == s.sub_block) {
        V::wide_add(wide, sum);
        sum = V::zero_i();
        in_sum = 0;
      }
      sum = V::add_i(sum, product_term(p));
      ++in_sum;
    }
    V::wide_add(wide, sum);
    acc[r] = V::finish_wide(s, wide, em[r]);
  }
}

// One k-step of R rows: the blocks in order, chained through the accumulators.
template <int N, int R, bool Raw>
inline __attribute__((always_inline)) void step_blocks(const KernelSpec& s, RowView* rows, int count,
                                                       const std::uint32_t* b, typename V::I* cur) {
  constexpr unsigned kAll = V::kWidth >= 32 ? ~0u : (1u << V::kWidth) - 1u;
  const int full = N > 0 ? count / N * N : 0;
  for (int p0 = 0; p0 < count; p0 += s.block_stored) {
    unsigned overflowed[R] = {};
    bool all = s.may_overflow;
    typename V::I next[R];
    for (int r = 0; r < R; ++r) {
      if (s.may_overflow) overflowed[r] = V::special(cur[r], s.fp16_out);
      all = all && overflowed[r] == kAll;
      next[r] = cur[r];
    }
    if (all) break;  // every lane is Inf already
    const int n = count - p0 < s.block_stored ? count - p0 : s.block_stored;
    if (p0 < full)
      block<N, R, Raw>(s, rows, N, b, next);
    else
      block<0, R, Raw>(s, rows, n, b, next);
    for (int r = 0; r < R; ++r) {
      cur[r] = s.may_overflow ? V::select(overflowed[r], cur[r], next[r]) : next[r];  // an Inf stays
      rows[r].val += n;
      rows[r].exp += n;
      rows[r].off += n;
    }
  }
}

// Rows [r0, r0 + R) of the step's rows.
template <int N, int R, bool Raw>
void run_rows(const StepArgs& a, int r0) {
  const KernelSpec& s = *a.spec;
  constexpr int W = V::kWidth;
  constexpr unsigned kLaneMask = W >= 32 ? ~0u : (1u << W) - 1u;
  std::uint32_t skip[R];
  for (int r = 0; r < R; ++r) skip[r] = a.skip[r0 + r];
  for (int l0 = 0; l0 < kGroup; l0 += W) {
    typename V::I saved[R], cur[R];
    RowView rows[R];
    unsigned skipped[R];
    bool all_skipped = true;
    for (int r = 0; r < R; ++r) {
      const std::size_t row = static_cast<std::size_t>(r0 + r) * a.a_stride;
      rows[r] = {a.a_val + row, a.a_exp + row, a.a_off + row};
      saved[r] = V::load_i(a.acc + static_cast<std::size_t>(r0 + r) * kGroup + l0);
      skip[r] |= V::special(saved[r], s.fp16_out) << l0;  // Inf/NaN C: the generic path's whole-row rule
      skipped[r] = (skip[r] >> l0) & kLaneMask;
      all_skipped = all_skipped && skipped[r] == kLaneMask;
      // Lowered fp8 rows: the first HMMA's C is +0, the instruction's C is added after both.
      cur[r] = s.add_c_last ? V::zero_i() : saved[r];
    }
    if (all_skipped) continue;
    step_blocks<N, R, Raw>(s, rows, a.count, a.b + l0, cur);
    for (int r = 0; r < R; ++r) {
      if (s.add_c_last) cur[r] = V::add_rn(cur[r], saved[r], s.fp16_out);
      V::store_i(a.acc + static_cast<std::size_t>(r0 + r) * kGroup + l0, V::select(skipped[r], saved[r], cur[r]));
    }
  }
  for (int r = 0; r < R; ++r) a.skip[r0 + r] = skip[r];
}

template <int N, bool Raw>
void run_step_n(const StepArgs& a) {
  constexpr int kRows = 1;  // independent rows interleaved
  int r0 = 0;
  for (; r0 + kRows <= a.rows; r0 += kRows) run_rows<N, kRows, Raw>(a, r0);
  for (; r0 < a.rows; ++r0) run_rows<N, 1, Raw>(a, r0);
}

template <bool Raw>
void run_step_raw(const StepArgs& a) {
  switch (a.spec->block_stored) {  // the block sizes of the datapath table, unrolled
    case 4: run_step_n<4, Raw>(a); break;
    case 8: run_step_n<8, Raw>(a); break;
    case 16: run_step_n<16, Raw>(a); break;
    case 32: run_step_n<32, Raw>(a); break;
    default: run_step_n<0, Raw>(a); break;
  }
}

void run_step(const StepArgs& a) {
  if (a.spec->raw_products)
    run_step_raw<true>(a);
  else
    run_step_raw<false>(a);
}

// Integer rows: plain loops over the 16 columns, which the compiler vectorises for the
// instruction set of the including file.
void run_int_rows(const IntRowsArgs& a) {
  constexpr std::int64_t kMax = 2147483647, kMin = -kMax - 1;
  for (int r = 0; r < a.rows; ++r) {
    const std::int32_t* av = a.a_val + static_cast<std::size_t>(r) * a.a_stride;
    const std::int32_t* ao = a.a_off + static_cast<std::size_t>(r) * a.a_stride;
    std::uint32_t* acc = a.acc + static_cast<std::size_t>(r) * kGroup;
    std::int32_t c[kGroup];
    for (int j = 0; j < kGroup; ++j) c[j] = static_cast<std::int32_t>(acc[j]);
    for (int step = 0; step < a.steps; ++step, av += a.count, ao += a.count) {
      std::int32_t sum[kGroup] = {};
      for (int p = 0; p < a.count; ++p) {
        const std::int32_t x = av[p];
        const std::int32_t* br = a.b + ao[p];
        for (int j = 0; j < kGroup; ++j) sum[j] += x * br[j];
      }
      for (int j = 0; j < kGroup; ++j) {
        if (a.satfinite) {
          const std::int64_t t = static_cast<std::int64_t>(c[j]) + sum[j];
          c[j] = static_cast<std::int32_t>(t > kMax ? kMax : (t < kMin ? kMin : t));
        } else {
          c[j] = static_cast<std::int32_t>(static_cast<std::uint32_t>(c[j]) + static_cast<std::uint32_t>(sum[j]));
        }
      }
    }
    for (int j = 0; j < kGroup; ++j) acc[j] = static_cast<std::uint32_t>(c[j]);
  }
}
