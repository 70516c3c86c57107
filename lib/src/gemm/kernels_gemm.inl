// Internal: the GEMM micro-kernel, one source for every instruction set. Included (inside an
// anonymous namespace) by kernels_<isa>.cpp after it defines the vector traits V:
//   V::reg, V::kWidth, V::load(p), V::store(p, r), V::broadcast(x), V::zero(),
//   V::fmadd(a, b, c) = a*b + c rounded once.
//
// Register tile: MR rows x NRV vectors (NR = NRV * kWidth columns) of C in MR*NRV accumulators.
// Per kept element of a row: one broadcast of its value and NRV fused multiply-adds whose B
// operand is loaded straight from the packed strip at the element's pre-expanded offset. The
// B rows differ between rows (each row keeps its own 2 of 4), so a B vector cannot be shared
// across the MR rows the way dense GEMM shares it; the MR rows only give the FMA pipes
// independent chains. Each accumulator sees its row's kept elements in K order, so the
// result is bit-equal to the reference.

template <class V, int MR, int NRV>
void gemm_tile(const TileArgs& t) {
  using reg = typename V::reg;
  constexpr std::size_t W = static_cast<std::size_t>(V::kWidth);
  constexpr std::size_t NR = static_cast<std::size_t>(NRV) * W;
  const bool full = t.rows == static_cast<std::size_t>(MR) && t.cols == NR;
  alignas(64) float edge[static_cast<std::size_t>(MR) * NR];
  float* c = t.c;
  std::size_t ldc = t.ldc;
  if (!full) {
    // Edge tile: run the same kernel on a local tile, copy the valid part in and out.
    for (std::size_t i = 0; i < static_cast<std::size_t>(MR) * NR; ++i) edge[i] = 0.0f;
    if (t.load_c) {
      for (std::size_t r = 0; r < t.rows; ++r)
        for (std::size_t j = 0; j < t.cols; ++j) edge[r * NR + j] = t.c[r * t.ldc + j];
    }
    c = edge;
    ldc = NR;
  }
  reg acc[MR][NRV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NRV; ++v)
      acc[r][v] = t.load_c ? V::load(c + static_cast<std::size_t>(r) * ldc + static_cast<std::size_t>(v) * W)
                           : V::zero();
  const PackedSlot* a = t.a;
  const float* b = t.b;
  for (std::size_t s = 0; s < t.slots; ++s) {
    for (int r = 0; r < MR; ++r) {
      const reg av = V::broadcast(a[r].value);
      const float* bp = b + a[r].offset;
      for (int v = 0; v < NRV; ++v) acc[r][v] = V::fmadd(av, V::load(bp + static_cast<std::size_t>(v) * W), acc[r][v]);
    }
    a += MR;
  }
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NRV; ++v) V::store(c + static_cast<std::size_t>(r) * ldc + static_cast<std::size_t>(v) * W, acc[r][v]);
  if (!full) {
    for (std::size_t r = 0; r < t.rows; ++r)
      for (std::size_t j = 0; j < t.cols; ++j) t.c[r * t.ldc + j] = edge[r * NR + j];
  }
}
