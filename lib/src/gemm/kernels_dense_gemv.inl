// Internal: the dense 16-bit GEMV (dense_gemv.hpp) for the SIMD builds. Included (inside an
// anonymous namespace) after the vector traits V of kernels_smalln.inl. R rows share each
// chunk of x; per part of W columns and row: one widening load of the weights and one fused
// multiply-add into the row's 16-lane partial sum (kParts registers), the order of
// sparse_gemm.hpp's small-N path with every column kept.

template <class V, ValueKind KIND, int R>
void dense_gemv_block(const DenseGemvArgs& s, std::size_t row0) {
  using reg = typename V::reg;
  constexpr std::size_t W = static_cast<std::size_t>(V::kWidth);
  constexpr int P = V::kParts;
  const std::size_t lane_cols = s.k / 32 * 32;
  reg acc[R][P];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) acc[r][p] = V::zero();
  const std::uint16_t* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = s.a + (row0 + static_cast<std::size_t>(r)) * s.lda;
  for (std::size_t k0 = 0; k0 < lane_cols; k0 += 16) {
    for (int p = 0; p < P; ++p) {
      const std::size_t kk = k0 + static_cast<std::size_t>(p) * W;
      const reg xv = V::load(s.x + kk);
      for (int r = 0; r < R; ++r) acc[r][p] = V::fmadd(V::template load_values<KIND>(rows[r], kk), xv, acc[r][p]);
    }
  }
  for (int r = 0; r < R; ++r) {
    float sum = V::lane_tree_sum(acc[r]);
    for (std::size_t kk = lane_cols; kk < s.k; ++kk) sum = std::fma(scalar_value<KIND>(rows[r], kk), s.x[kk], sum);
    float& out = s.y[row0 + static_cast<std::size_t>(r)];
    out = s.accumulate ? out + sum : sum;
  }
}

template <class V, ValueKind KIND>
void dense_gemv_kind(const DenseGemvArgs& s) {
  // AVX-512: 8 rows (8 accumulators); AVX2: 4 rows (8 registers of partial sums).
  constexpr int R = V::kWidth >= 16 ? 8 : 4;
  std::size_t row = s.row_begin;
  for (; row + R <= s.row_end; row += R) dense_gemv_block<V, KIND, R>(s, row);
  for (; row < s.row_end; ++row) dense_gemv_block<V, KIND, 1>(s, row);
}

template <class V>
void dense_gemv(const DenseGemvArgs& s) {
  if (s.kind == ValueKind::fp16) {
    dense_gemv_kind<V, ValueKind::fp16>(s);
  } else {
    dense_gemv_kind<V, ValueKind::bf16>(s);
  }
}
