// Internal: the sampled 2:4 GEMM kernel (sampled_gemm.hpp), one source for every instruction set.
// Included (inside an anonymous namespace) after the vector traits V of kernels_gemm.inl, which
// add V::lane_tree_sum(const reg* p): the 16 chain sums held in 16 / kWidth registers (lane j of
// register q is chain q * kWidth + j) added in the pairwise order of sampled_gemm.hpp, and
// V::lane_tree_sum4(acc, out): the same for four slots at once (the same additions; AVX-512 runs
// the four trees in the lanes of shared registers).
//
// Per stored slot, the 16 chains are 16 / kWidth accumulators; U slots of one row run side by
// side (independent FMA chains that share the loads of the row of A). The order of each chain
// is fixed by its lane, so the vector width changes nothing in the bits.

// slot: the index of the unit's first slot among the row block's stored slots (its chain sums'
// place in s.partial, which is null when the reduction is one slice).
template <class V, int U>
void sampled_unit(const SampledArgs& s, const float* arow, const float* const* brow, std::size_t slot, float* out) {
  float* const partial = s.first && s.last ? nullptr : s.partial + slot * kSampledLanes;
  using reg = typename V::reg;
  constexpr std::size_t W = static_cast<std::size_t>(V::kWidth);
  constexpr int R = static_cast<int>(kSampledLanes / W);
  reg acc[U][R];
  // Two plain loops, not a select per register: a select kept the accumulators in memory.
  if (s.first) {
    for (int u = 0; u < U; ++u)
      for (int r = 0; r < R; ++r) acc[u][r] = V::zero();
  } else {
    for (int u = 0; u < U; ++u)
      for (int r = 0; r < R; ++r)
        acc[u][r] = V::load(partial + static_cast<std::size_t>(u) * kSampledLanes + static_cast<std::size_t>(r) * W);
  }
  for (std::size_t i = s.i_begin; i < s.i_end; i += kSampledLanes) {
    for (int r = 0; r < R; ++r) {
      const std::size_t at = i + static_cast<std::size_t>(r) * W;
      const reg av = V::load(arow + at);
      for (int u = 0; u < U; ++u) acc[u][r] = V::fmadd(av, V::load(brow[u] + at), acc[u][r]);
    }
  }
  if (s.last) {
    float sum[U];
    if constexpr (U % 4 == 0) {
      for (int u = 0; u < U; u += 4) V::lane_tree_sum4(acc + u, sum + u);
    } else {
      for (int u = 0; u < U; ++u) sum[u] = V::lane_tree_sum(acc[u]);
    }
    for (int u = 0; u < U; ++u) out[u] = s.accumulate ? out[u] + sum[u] : sum[u];
    return;
  }
  for (int u = 0; u < U; ++u) {
    {
      for (int r = 0; r < R; ++r)
        V::store(partial + static_cast<std::size_t>(u) * kSampledLanes + static_cast<std::size_t>(r) * W, acc[u][r]);
    }
  }
}

template <class V>
void sampled_rows(const SampledArgs& s) {
  const std::size_t mw = sparse::meta_words_per_row(s.cols);
  const std::size_t half = s.cols / 2;
  for (std::size_t row = s.row_begin; row < s.row_end; ++row) {
    const std::uint16_t* meta = s.meta + row * mw;
    const float* arow = s.a + row * s.lda;
    float* out = s.values + (row - s.values_row0) * half;
    const std::size_t slot0 = (row - s.row_begin) * half;
    std::size_t g = s.group_begin;
    // Where the register file allows (AVX-512: 8 accumulators of 16 lanes), four groups (eight
    // slots, eight independent chains: with four, a batch-long reduction of 128 was bound by the
    // fused multiply-add latency) at a time; then two groups, then a last single group.
    if constexpr (V::kWidth >= 16) {
      for (; g + 4 <= s.group_end; g += 4) {
        const float* b[8];
        for (std::size_t q = 0; q < 4; ++q) {
          const unsigned nib = sparse::meta_nibble(meta, g + q);
          b[2 * q] = s.b + (4 * (g + q) + sparse::nibble_idx0(nib)) * s.ldb;
          b[2 * q + 1] = s.b + (4 * (g + q) + sparse::nibble_idx1(nib)) * s.ldb;
        }
        sampled_unit<V, 8>(s, arow, b, slot0 + 2 * g, out + 2 * g);
      }
    }
    for (; g + 2 <= s.group_end; g += 2) {
      const unsigned n0 = sparse::meta_nibble(meta, g), n1 = sparse::meta_nibble(meta, g + 1);
      const float* b[4] = {s.b + (4 * g + sparse::nibble_idx0(n0)) * s.ldb, s.b + (4 * g + sparse::nibble_idx1(n0)) * s.ldb,
                           s.b + (4 * g + 4 + sparse::nibble_idx0(n1)) * s.ldb,
                           s.b + (4 * g + 4 + sparse::nibble_idx1(n1)) * s.ldb};
      sampled_unit<V, 4>(s, arow, b, slot0 + 2 * g, out + 2 * g);
    }
    if (g < s.group_end) {
      const unsigned n0 = sparse::meta_nibble(meta, g);
      const float* b[2] = {s.b + (4 * g + sparse::nibble_idx0(n0)) * s.ldb, s.b + (4 * g + sparse::nibble_idx1(n0)) * s.ldb};
      sampled_unit<V, 2>(s, arow, b, slot0 + 2 * g, out + 2 * g);
    }
  }
}

// One metadata word's groups (in_word <= 4) of a row: sums v[0, 2 in_word) written, or added,
// at d[0, 4 in_word) where the nibbles name them. Any nibble is memory-safe: a malformed one
// (idx0 >= idx1, possible with validation off) places both values where it names, in slot order.
inline void place_word(unsigned word, std::size_t in_word, const float* v, float* d, bool add) {
  for (std::size_t j = 0; j < in_word; ++j) {
    const unsigned nib = (word >> (4 * j)) & 0xfu;
    float& x0 = d[4 * j + sparse::nibble_idx0(nib)];
    x0 = add ? x0 + v[2 * j] : v[2 * j];
    float& x1 = d[4 * j + sparse::nibble_idx1(nib)];
    x1 = add ? x1 + v[2 * j + 1] : v[2 * j + 1];
  }
}

// Rows [p.row_begin, p.row_end) of a block's sums placed at their dense positions, a metadata word
// (four groups) at a time.
inline void place_rows(const PlaceArgs& p) {
  const std::size_t mw = sparse::meta_words_per_row(p.cols), half = p.cols / 2, groups = p.cols / 4;
  for (std::size_t r = p.row_begin; r < p.row_end; ++r) {
    const float* v = p.sums + (r - p.row_begin) * half;
    float* d = p.dense + r * p.ld;
    for (std::size_t g = 0; g < groups; g += 4)
      place_word(p.meta[r * mw + g / 4], std::min<std::size_t>(4, groups - g), v + 2 * g, d + 4 * g, p.add);
  }
}
