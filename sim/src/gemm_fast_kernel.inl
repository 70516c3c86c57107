// The GEMM fast path's kernel, one source for every instruction set (gemm_fast_kernels.hpp).
// Included by gemm_fast_<isa>.cpp inside an anonymous namespace, after it defines `V`, the lane
// type of its instruction set:
//   kWidth lanes; F (float lanes), I (32-bit lanes), Wide (kWidth int64 lanes)
//   load_f, bcast, add, sub, max, mul on F; load_i, store_i, zero_i, add_i on I
//   term(p, k)      trunc(p * 2^k) for |p| < 4 and integer k <= 26: exact whenever |p * 2^k| >= 1
//   c_term(c, q)    trunc(c * 2^q) for an accumulator value c with |c * 2^q| < 2^26, any integer q
//   acc_value(bits, fp16)  the accumulator's value as fp32 (exact); acc_exponent(c): the model's
//                   exponent of c (floor(log2|c|), at least -126; kZeroExponent for zero)
//   special(bits, fp16)    lanes (bit mask) holding Inf/NaN; select(lanes, a, b): a where set
//   add_rn(x, y, fp16)     IEEE round-to-nearest-even addition in the D format
//   wide_zero, wide_add(Wide&, I); finish(spec, I sum, F em), finish_wide(spec, Wide, F em): the
//                   block's sum (units of 2^(em - F)) rounded as spec::round_block_sum does.
//
// Model (docs/datapath.md §Model, blockfma.cpp finite_block): per block, E = max(product
// exponents x_a + x_b, c's exponent, min_exp_limit); every term (product or c) in units of
// 2^(E - F), its magnitude truncated; the exact integer sum rounded once. With signed
// significands s (|s| < 2) the product is s_a * s_b * 2^(x_a + x_b), exact in fp32, so its term
// is trunc(s_a * s_b * 2^(x_a + x_b + F - E)): truncation toward zero of a signed value is the
// model's truncated magnitude with the product's sign.

// Terms of one block (n products and c) for kWidth adjacent columns, rounded to the D format.
// N > 0: n == N known at compile time (the loops unroll); N == 0: any n <= 64.
template <int N>
typename V::I block(const KernelSpec& s, const float* as, const float* ae, const std::int32_t* ao, int n,
                    const float* b, typename V::I c_bits) {
  using VF = typename V::F;
  using VI = typename V::I;
  constexpr int kMax = N > 0 ? N : 64;
  const int count = N > 0 ? N : n;
  VF x[kMax];
  const VF c = V::acc_value(c_bits, s.fp16_out);
  VF em = V::max(V::acc_exponent(c), V::bcast(static_cast<float>(s.min_exp_limit)));
  for (int p = 0; p < count; ++p) {  // product exponents and their maximum
    x[p] = V::add(V::load_f(b + ao[p] + kGroup), V::bcast(ae[p]));
    em = V::max(em, x[p]);
  }
  const VF q = V::sub(V::bcast(static_cast<float>(s.fraction_bits)), em);  // F - E
  VI sum = V::c_term(c, q);
  if (!s.wide) {
    for (int p = 0; p < count; ++p)
      sum = V::add_i(sum, V::term(V::mul(V::load_f(b + ao[p]), V::bcast(as[p])), V::add(x[p], q)));
    return V::finish(s, sum, em);
  }
  typename V::Wide wide = V::wide_zero();
  int in_sum = 0;  // products in `sum` (s.sub_block of them fit with c's term)
  for (int p = 0; p < count; ++p) {
    if (in_sum == s.sub_block) {
      V::wide_add(wide, sum);
      sum = V::zero_i();
      in_sum = 0;
    }
    sum = V::add_i(sum, V::term(V::mul(V::load_f(b + ao[p]), V::bcast(as[p])), V::add(x[p], q)));
    ++in_sum;
  }
  V::wide_add(wide, sum);
  return V::finish_wide(s, wide, em);
}

template <int N>
typename V::I step_blocks(const KernelSpec& s, const float* as, const float* ae, const std::int32_t* ao, int count,
                          const float* b, typename V::I cur) {
  const int full = N > 0 ? count / N * N : 0;
  constexpr unsigned kAll = V::kWidth >= 32 ? ~0u : (1u << V::kWidth) - 1u;
  for (int p0 = 0; p0 < count; p0 += s.block_stored) {
    const unsigned overflowed = V::special(cur, s.fp16_out);
    if (overflowed == kAll) break;  // every lane is Inf already
    const int n = count - p0 < s.block_stored ? count - p0 : s.block_stored;
    const typename V::I next = p0 < full ? block<N>(s, as + p0, ae + p0, ao + p0, N, b, cur)
                                         : block<0>(s, as + p0, ae + p0, ao + p0, n, b, cur);
    cur = V::select(overflowed, cur, next);  // an Inf from an overflowed block stays
  }
  return cur;
}

template <int N>
void run_step_n(const StepArgs& a) {
  const KernelSpec& s = *a.spec;
  constexpr int W = V::kWidth;
  constexpr unsigned kLaneMask = W >= 32 ? ~0u : (1u << W) - 1u;
  for (int r = 0; r < a.rows; ++r) {
    const std::size_t row = static_cast<std::size_t>(r) * a.a_stride;
    std::uint32_t* acc = a.acc + static_cast<std::size_t>(r) * kGroup;
    std::uint32_t skip = a.skip[r];
    for (int l0 = 0; l0 < kGroup; l0 += W) {
      const typename V::I saved = V::load_i(acc + l0);
      skip |= V::special(saved, s.fp16_out) << l0;  // Inf/NaN C: the generic path's whole-row rule
      const unsigned skipped = (skip >> l0) & kLaneMask;
      if (skipped == kLaneMask) continue;
      // Lowered fp8 rows: the first HMMA's C is +0, the instruction's C is added after both.
      typename V::I cur = s.add_c_last ? V::zero_i() : saved;
      cur = step_blocks<N>(s, a.a_sig + row, a.a_exp + row, a.a_off + row, a.count, a.b + l0, cur);
      if (s.add_c_last) cur = V::add_rn(cur, saved, s.fp16_out);
      V::store_i(acc + l0, V::select(skipped, saved, cur));
    }
    a.skip[r] = skip;
  }
}

void run_step(const StepArgs& a) {
  switch (a.spec->block_stored) {  // the block sizes of the datapath table, unrolled
    case 4: run_step_n<4>(a); break;
    case 8: run_step_n<8>(a); break;
    case 16: run_step_n<16>(a); break;
    case 32: run_step_n<32>(a); break;
    default: run_step_n<0>(a); break;
  }
}
