// Internal: the generic N:M kernel for N (columns of B) up to one vector, one source for every
// instruction set. Included (inside an anonymous namespace) after the vector traits V of
// kernels_gemm.inl.
//
// At small N, A is used once, so packing it (as the blocked GEMM does) would cost as much as
// the multiply. This kernel reads A's compressed values and byte indices directly: per kept
// element, one broadcast of its value and one fused multiply-add against the B row its index
// names (B packed K x kWidth, zero-padded, so every row is one aligned vector load). R rows run
// side by side for independent FMA chains. Each chain runs in K order from C or 0: bit-equal
// to reference_nm_gemm().

template <class V, int R>
void nm_rows_block(const NMRowsArgs& s, std::size_t row0) {
  using reg = typename V::reg;
  constexpr std::size_t W = static_cast<std::size_t>(V::kWidth);
  const bool full = s.cols == W;
  alignas(64) float edge[R][W];
  reg acc[R];
  const float* val[R];
  const std::uint8_t* idx[R];
  for (int r = 0; r < R; ++r) {
    const std::size_t row = row0 + static_cast<std::size_t>(r);
    val[r] = s.values + row * s.kept_row;
    idx[r] = s.indices + row * s.kept_row;
    float* c = s.c + row * s.ldc;
    if (!s.accumulate) {
      acc[r] = V::zero();
    } else if (full) {
      acc[r] = V::load(c);
    } else {
      for (std::size_t j = 0; j < W; ++j) edge[r][j] = j < s.cols ? c[j] : 0.0f;
      acc[r] = V::load(edge[r]);
    }
  }
  const auto last = static_cast<std::uint8_t>(s.group - 1);
  std::size_t j = 0;  // kept element within the row
  for (std::size_t g = 0; g < s.groups; ++g) {
    const float* bg = s.b + g * s.group * W;
    for (std::size_t t = 0; t < s.keep; ++t, ++j) {
      for (int r = 0; r < R; ++r) {
        // min(): an unvalidated index past the group stays inside B.
        const std::size_t col = std::min(idx[r][j], last);
        acc[r] = V::fmadd(V::broadcast(val[r][j]), V::load(bg + col * W), acc[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    float* c = s.c + (row0 + static_cast<std::size_t>(r)) * s.ldc;
    if (full) {
      V::store(c, acc[r]);
    } else {
      V::store(edge[r], acc[r]);
      for (std::size_t jj = 0; jj < s.cols; ++jj) c[jj] = edge[r][jj];
    }
  }
}

template <class V>
void nm_rows(const NMRowsArgs& s) {
  constexpr int R = 8;
  std::size_t row = s.row_begin;
  for (; row + R <= s.row_end; row += R) nm_rows_block<V, R>(s, row);
  for (; row < s.row_end; ++row) nm_rows_block<V, 1>(s, row);
}
