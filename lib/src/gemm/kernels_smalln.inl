// Internal: the small-N (GEMV, N <= 16) kernel for the SIMD builds. Included (inside an
// anonymous namespace) after the vector traits V, which add to those of kernels_gemm.inl:
//   V::ireg, V::kParts (= 16 / kWidth: registers per 16-lane partial sum),
//   V::chunk_meta(row_meta, c) -> the metadata bits of the row's c-th run of kWidth kept
//                       elements (kWidth/2 groups, 2*kWidth K columns),
//   V::indices(bits) -> per lane l, the column (0 .. 2*kWidth-1) inside that run of kept
//                       element l: 4*(l/2) + ((bits >> 2l) & 3) (the 2-bit fields of a row's
//                       metadata are already in kept-element order),
//   V::select(lo, hi, idx) -> lane l = (lo:hi)[idx_l] (a register permute, not a gather),
//   V::load_values<KIND>(p) -> kWidth values widened to fp32 (exact),
//   V::lane_tree_sum(parts) -> the fixed reduction tree of sparse_gemm.hpp over the 16 lanes.
//
// Memory-bound design: A is read once, in its compressed form (values + 2-bit indices, 4.25
// bytes per kept fp32 element, 2.25 for bf16/fp16, against 8 per two dense fp32 elements),
// with no pre-expansion pass. The chunk of B^T that a chunk of A needs (32 consecutive K of
// one column) is loaded once and shared by the R rows of a block; the per-row selection is
// one permute. The summation order is the 16-lane order of sparse_gemm.hpp on every
// instruction set: AVX-512 holds the 16 partial sums in one register, AVX2 in two, the
// scalar build in an array, so the bits do not depend on the path.

// Software prefetch distances (elements ahead in each row's stream). The R rows of a block
// are 2R concurrent streams (values and metadata); prefetching each row's values 2048
// elements (8 KB fp32, 4 KB bf16) and its metadata 32 words (one cache line) ahead cut the
// N = 1 time at 4096 x 4096 on Zen 4 by 10-17% (CPU time, variants alternated in one process;
// 512 elements was slower than none, 1024 no better, 3072 and 4096 no better than 2048), so
// the hardware prefetcher alone does not keep that many streams far enough ahead [inferred].
constexpr std::size_t kPrefetchValues = 2048;
constexpr std::size_t kPrefetchMeta = 32;

template <class V, ValueKind KIND, int NB, int R>
void small_n_block(const SmallNArgs& s, std::size_t row0, std::size_t col0) {
  using reg = typename V::reg;
  using ireg = typename V::ireg;
  constexpr std::size_t W = static_cast<std::size_t>(V::kWidth);
  constexpr int P = V::kParts;
  static_assert(W * P == 16, "16 lanes per partial sum");
  const std::size_t kh = s.k / 2;
  const std::size_t mw = sparse::meta_words_per_row(s.k);
  const std::size_t chunks = s.k / 32;  // 32 K columns = 16 kept elements
  reg acc[R][NB][P];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NB; ++j)
      for (int p = 0; p < P; ++p) acc[r][j][p] = V::zero();
  const float* bt[NB];
  for (int j = 0; j < NB; ++j) bt[j] = s.bt + (col0 + static_cast<std::size_t>(j)) * s.ldbt;
  for (std::size_t ch = 0; ch < chunks; ++ch) {
    for (int p = 0; p < P; ++p) {
      const std::size_t part = ch * P + static_cast<std::size_t>(p);  // run of W kept elements
      ireg idx[R];
      reg val[R];
      for (int r = 0; r < R; ++r) {
        const std::size_t row = row0 + static_cast<std::size_t>(r);
        idx[r] = V::indices(V::chunk_meta(s.meta + row * mw, part));
        val[r] = V::template load_values<KIND>(s.values, row * kh + part * W);
        V::template prefetch_values<KIND>(s.values, row * kh + part * W + kPrefetchValues);
        V::prefetch(s.meta, row * mw + part * W / 8 + kPrefetchMeta);
      }
      for (int j = 0; j < NB; ++j) {
        const reg lo = V::load(bt[j] + part * 2 * W);
        const reg hi = V::load(bt[j] + part * 2 * W + W);
        for (int r = 0; r < R; ++r) acc[r][j][p] = V::fmadd(val[r], V::select(lo, hi, idx[r]), acc[r][j][p]);
      }
    }
  }
  const std::size_t groups = s.k / 4;
  for (int r = 0; r < R; ++r) {
    const std::size_t row = row0 + static_cast<std::size_t>(r);
    const std::uint16_t* meta = s.meta + row * mw;
    for (int j = 0; j < NB; ++j) {
      float sum = V::lane_tree_sum(acc[r][j]);
      // K tail (fewer than 32 columns): one chain in K order.
      for (std::size_t g = chunks * 8; g < groups; ++g) {
        const unsigned nib = sparse::meta_nibble(meta, g);
        const std::size_t k0 = 4 * g + sparse::nibble_idx0(nib);
        const std::size_t k1 = 4 * g + sparse::nibble_idx1(nib);
        sum = std::fma(scalar_value<KIND>(s.values, row * kh + 2 * g), bt[j][k0], sum);
        sum = std::fma(scalar_value<KIND>(s.values, row * kh + 2 * g + 1), bt[j][k1], sum);
      }
      float& out = s.c[row * s.ldc + col0 + static_cast<std::size_t>(j)];
      out = s.accumulate ? out + sum : sum;
    }
  }
}

template <class V, ValueKind KIND, int NB>
void small_n_columns(const SmallNArgs& s, std::size_t col0) {
  // Rows per block: enough to share each B^T chunk, few enough that R*NB*kParts accumulators
  // plus R index and value registers fit the register file.
  // AVX-512 (32 registers), measured on Zen 4 at 4096 x 4096: N = 1 with 8 rows instead of 4
  // and N = 8 with 3 instead of 2 were faster (more independent loads in flight per B chunk;
  // 8*3 and 3*(8+2) registers of the 32). AVX2 (16 registers, two per partial sum; N <= 4 per
  // block, see small_n_kind): 3 rows at N = 1, else 2; measured at 4096 x 4096 (CPU time), 2 rows
  // at N = 1 and 1 row at N = 4 were 10-20% slower.
  constexpr bool kManyRegisters = V::kWidth >= 16;
  constexpr int R = kManyRegisters ? (NB == 1 ? 8 : NB >= 8 ? 3 : 4) : (NB == 1 ? 3 : 2);
  std::size_t row = s.row_begin;
  for (; row + R <= s.row_end; row += R) small_n_block<V, KIND, NB, R>(s, row, col0);
  for (; row < s.row_end; ++row) small_n_block<V, KIND, NB, 1>(s, row, col0);
}

template <class V, ValueKind KIND>
void small_n_kind(const SmallNArgs& s) {
  std::size_t col = 0;
  while (col < s.n) {
    const std::size_t left = s.n - col;
    if (left >= 8 && V::kParts == 1) {  // AVX2 would need 16 accumulators for 8 columns
      small_n_columns<V, KIND, 8>(s, col);
      col += 8;
    } else if (left >= 4) {
      small_n_columns<V, KIND, 4>(s, col);
      col += 4;
    } else if (left >= 2) {
      small_n_columns<V, KIND, 2>(s, col);
      col += 2;
    } else {
      small_n_columns<V, KIND, 1>(s, col);
      col += 1;
    }
  }
}

template <class V>
void small_n(const SmallNArgs& s) {
  switch (s.kind) {
    case ValueKind::fp32: small_n_kind<V, ValueKind::fp32>(s); break;
    case ValueKind::fp16: small_n_kind<V, ValueKind::fp16>(s); break;
    case ValueKind::bf16: small_n_kind<V, ValueKind::bf16>(s); break;
  }
}
