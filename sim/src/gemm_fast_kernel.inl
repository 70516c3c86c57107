// The GEMM fast path's kernel, one source for every instruction set (gemm_fast_kernels.hpp).
// Included by gemm_fast_<isa>.cpp inside an anonymous namespace, after it defines `V`, the lane
// type of its instruction set:
//   kWidth lanes; F (float lanes), I (32-bit lanes), Wide (kWidth int64 lanes)
//   load_f, bcast, add, sub, max, mul on F; load_i, store_i, zero_i, bcast_i, add_i, max_i (signed)
//   on I; to_float (exact for the exponents here)
//   term(p, k)      trunc(p * 2^k) for an exact product p and an integer k with |p * 2^k| < 2^27;
//                   correct whenever |p * 2^k| >= 1 (anything smaller truncates to 0)
//   pow2_or_zero_products(q)  2^q as a normal fp32 where a non-zero product can occur (raw
//                   products: q = F - E in [-115, 127]); a clamped power elsewhere
//   truncate(x)     trunc(x) for |x| < 2^31
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
// 2^(F - E) is formed once per block and applied by a multiplication.

// A's stored values of one row, from the current product on.
struct RowView {
  const float* val;
  const std::int32_t* exp;
  const std::int32_t* off;
};

// Terms of one block (n products and c) of one row for kWidth adjacent columns, rounded to the D
// format. N > 0: n == N known at compile time (the loops unroll); N == 0: any n <= 64.
template <int N, bool Raw>
inline __attribute__((always_inline)) typename V::I block(const KernelSpec& s, const RowView& row, int n,
                                                          const std::uint32_t* b, typename V::I c_bits) {
  using VF = typename V::F;
  using VI = typename V::I;
  constexpr int kMax = N > 0 ? N : 64;
  const int count = N > 0 ? N : n;
  VI x[kMax];
  VI emi = V::bcast_i(s.min_exp_limit);  // product exponents and their maximum, in integer lanes
  for (int p = 0; p < count; ++p) {
    x[p] = V::add_i(V::load_i(b + row.off[p] + kGroup), V::bcast_i(row.exp[p]));
    emi = V::max_i(emi, x[p]);
  }
  const VF c = V::acc_value(c_bits, s.fp16_out);
  const VF em = V::max(V::to_float(emi), V::acc_exponent(c));
  const VF q = V::sub(V::bcast(static_cast<float>(s.fraction_bits)), em);  // F - E
  const VF scale = Raw ? V::pow2_or_zero_products(q) : q;  // raw products: 2^(F - E) once per block
  const auto term = [&](int p) {
    if constexpr (Raw) return V::truncate(V::mul(V::mul(V::load_f(b + row.off[p]), V::bcast(row.val[p])), scale));
    return V::term(V::mul(V::load_f(b + row.off[p]), V::bcast(row.val[p])), V::add(V::to_float(x[p]), q));
  };
  VI sum = V::c_term(c, q);
  if (!s.wide) {
    for (int p = 0; p < count; ++p) sum = V::add_i(sum, term(p));
    return V::finish(s, sum, em);
  }
  // Two int32 halves (make_plan checks each fits); int64 only when a lane's total wraps.
  const int half = count / 2;
  VI second = V::zero_i();
  for (int p = 0; p < half; ++p) sum = V::add_i(sum, term(p));
  for (int p = half; p < count; ++p) second = V::add_i(second, term(p));
  const VI total = V::add_i(sum, second);  // modulo 2^32
  if (V::add_overflows(sum, second, total) == 0) return V::finish(s, total, em);
  typename V::Wide wide = V::wide_zero();
  V::wide_add(wide, sum);
  V::wide_add(wide, second);
  return V::finish_wide(s, wide, em);
}

// One k-step of one row: the blocks in order, chained through the accumulator.
template <int N, bool Raw>
inline __attribute__((always_inline)) typename V::I step_blocks(const KernelSpec& s, RowView row, int count,
                                                                const std::uint32_t* b, typename V::I cur) {
  constexpr unsigned kAll = V::kWidth >= 32 ? ~0u : (1u << V::kWidth) - 1u;
  const int full = N > 0 ? count / N * N : 0;
  for (int p0 = 0; p0 < count; p0 += s.block_stored) {
    const unsigned overflowed = s.may_overflow ? V::special(cur, s.fp16_out) : 0u;
    if (s.may_overflow && overflowed == kAll) break;  // every lane is Inf already
    const int n = count - p0 < s.block_stored ? count - p0 : s.block_stored;
    const typename V::I next = p0 < full ? block<N, Raw>(s, row, N, b, cur) : block<0, Raw>(s, row, n, b, cur);
    cur = s.may_overflow ? V::select(overflowed, cur, next) : next;  // an Inf from an overflowed block stays
    row.val += n;
    row.exp += n;
    row.off += n;
  }
  return cur;
}

template <int N, bool Raw>
void run_step_n(const StepArgs& a) {
  const KernelSpec& s = *a.spec;
  constexpr int W = V::kWidth;
  constexpr unsigned kLaneMask = W >= 32 ? ~0u : (1u << W) - 1u;
  for (int r = 0; r < a.rows; ++r) {
    const std::size_t at = static_cast<std::size_t>(r) * a.a_stride;
    const RowView row{a.a_val + at, a.a_exp + at, a.a_off + at};
    std::uint32_t* acc = a.acc + static_cast<std::size_t>(r) * kGroup;
    std::uint32_t skip = a.skip[r];
    for (int l0 = 0; l0 < kGroup; l0 += W) {
      const typename V::I saved = V::load_i(acc + l0);
      skip |= V::special(saved, s.fp16_out) << l0;  // Inf/NaN C: the generic path's whole-row rule
      const unsigned skipped = (skip >> l0) & kLaneMask;
      if (skipped == kLaneMask) continue;
      // Lowered fp8 rows: the first HMMA's C is +0, the instruction's C is added after both.
      typename V::I cur = step_blocks<N, Raw>(s, row, a.count, a.b + l0, s.add_c_last ? V::zero_i() : saved);
      if (s.add_c_last) cur = V::add_rn(cur, saved, s.fp16_out);
      V::store_i(acc + l0, V::select(skipped, saved, cur));
    }
    a.skip[r] = skip;
  }
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
