// Internal: the dense GEMM kernels, one source for every instruction set. Included (inside an
// anonymous namespace) by kernels_<isa>.cpp after it defines the vector traits V of
// kernels_gemm.inl (load, store, broadcast, zero, fmadd rounded once).
//
// Both kernels fix the order of every sum independently of the vector width, so the scalar,
// AVX2 and AVX-512 builds give the same bits (tests/lib/gemm/dense_gemm_test.cpp):
//   dense_tile: each C element is one fused multiply-add chain in increasing k;
//   dot_tile:   each C element is kDotLanes chains (lane l: k = l mod kDotLanes, increasing k),
//               reduced by a fixed pairwise tree. A vector of W lanes holds lanes [v W, v W + W)
//               of the kDotLanes, so the lanes are the same whatever W is.

template <class V, int MR, int NRV>
void dense_tile(const DenseTileArgs& t) {
  using reg = typename V::reg;
  constexpr std::size_t W = static_cast<std::size_t>(V::kWidth);
  constexpr std::size_t NR = static_cast<std::size_t>(NRV) * W;
  constexpr std::size_t R = static_cast<std::size_t>(MR);
  const bool full = t.rows == R && t.cols == NR;
  alignas(64) float edge[R * NR];
  float* c = t.c;
  std::size_t ldc = t.ldc;
  if (!full) {
    // Edge tile: the same kernel on a local tile; the valid part is copied in and out.
    for (std::size_t i = 0; i < R * NR; ++i) edge[i] = 0.0f;
    if (t.load_c)
      for (std::size_t r = 0; r < t.rows; ++r)
        for (std::size_t j = 0; j < t.cols; ++j) edge[r * NR + j] = t.c[r * t.ldc + j];
    c = edge;
    ldc = NR;
  }
  reg acc[MR][NRV];
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < static_cast<std::size_t>(NRV); ++v)
      acc[r][v] = t.load_c ? V::load(c + r * ldc + v * W) : V::zero();
  const float* a = t.a;
  const float* b = t.b;
  for (std::size_t k = 0; k < t.kc; ++k) {
    reg bv[NRV];
    for (std::size_t v = 0; v < static_cast<std::size_t>(NRV); ++v) bv[v] = V::load(b + v * W);
    for (std::size_t r = 0; r < R; ++r) {
      const reg av = V::broadcast(a[r]);
      for (std::size_t v = 0; v < static_cast<std::size_t>(NRV); ++v) acc[r][v] = V::fmadd(av, bv[v], acc[r][v]);
    }
    a += R;
    b += NR;
  }
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < static_cast<std::size_t>(NRV); ++v) V::store(c + r * ldc + v * W, acc[r][v]);
  if (!full)
    for (std::size_t r = 0; r < t.rows; ++r)
      for (std::size_t j = 0; j < t.cols; ++j) t.c[r * t.ldc + j] = edge[r * NR + j];
}

// Lanes of one output after its last K block: the tail products, then the pairwise tree. A
// 16-lane build may provide V::finish_lanes(reg, a, b, tail) doing the same in registers.
inline float finish_lanes(float* lanes, const float* a, const float* b, std::size_t tail) {
  for (std::size_t t = 0; t < tail; ++t) lanes[t] = std::fma(a[t], b[t], lanes[t]);
  for (std::size_t w = kDotLanes / 2; w >= 1; w /= 2)
    for (std::size_t l = 0; l < w; ++l) lanes[l] = lanes[l] + lanes[l + w];
  return lanes[0];
}

template <class V, int MI, int NJ>
void dot_tile(const DotArgs& d) {
  using reg = typename V::reg;
  constexpr std::size_t W = static_cast<std::size_t>(V::kWidth);
  constexpr std::size_t L = kDotLanes / W;  // vectors per output
  constexpr std::size_t I = static_cast<std::size_t>(MI), J = static_cast<std::size_t>(NJ);
  reg acc[I][J][L];
  for (std::size_t i = 0; i < I; ++i)
    for (std::size_t j = 0; j < J; ++j)
      for (std::size_t l = 0; l < L; ++l)
        acc[i][j][l] = d.first ? V::zero() : V::load(d.partial + i * d.ldp + j * kDotLanes + l * W);
  const std::size_t body = d.kc / kDotLanes * kDotLanes;
  for (std::size_t k = 0; k < body; k += kDotLanes) {
    for (std::size_t l = 0; l < L; ++l) {
      reg av[I];
      for (std::size_t i = 0; i < I; ++i) av[i] = V::load(d.a + i * d.lda + k + l * W);
      for (std::size_t j = 0; j < J; ++j) {
        const reg bv = V::load(d.b + j * d.ldb + k + l * W);
        for (std::size_t i = 0; i < I; ++i) acc[i][j][l] = V::fmadd(av[i], bv, acc[i][j][l]);
      }
    }
  }
  if (!d.last) {
    for (std::size_t i = 0; i < I; ++i)
      for (std::size_t j = 0; j < J; ++j)
        for (std::size_t l = 0; l < L; ++l) V::store(d.partial + i * d.ldp + j * kDotLanes + l * W, acc[i][j][l]);
    return;
  }
  const std::size_t tail = d.kc - body;
  for (std::size_t i = 0; i < I; ++i)
    for (std::size_t j = 0; j < J; ++j) {
      float s;
      if constexpr (requires { V::finish_lanes(acc[i][j][0], d.a, d.b, tail); }) {
        s = V::finish_lanes(acc[i][j][0], d.a + i * d.lda + body, d.b + j * d.ldb + body, tail);  // one vector
      } else {
        alignas(64) float lanes[kDotLanes];
        for (std::size_t l = 0; l < L; ++l) V::store(lanes + l * W, acc[i][j][l]);
        s = finish_lanes(lanes, d.a + i * d.lda + body, d.b + j * d.ldb + body, tail);
      }
      float& out = d.c[i * d.ldc + j];
      out = d.accumulate ? out + s : s;
    }
}
