// Portable build of the kernels: baseline x86-64 (or any) code, no SIMD assumptions. The GEMM
// tile is the same source as the SIMD builds with one-float "vectors"; small N is a plain loop.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "half.hpp"
#include "kernels.hpp"
#include "round_half.hpp"
#include "validate_meta.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

namespace twofour::gemm::detail::scalar {
namespace {

struct V {
  using reg = float;
  static constexpr int kWidth = 1;
  static reg load(const float* p) { return *p; }
  static void store(float* p, reg r) { *p = r; }
  static reg broadcast(float x) { return x; }
  static reg zero() { return 0.0f; }
  static reg fmadd(reg a, reg b, reg c) { return std::fma(a, b, c); }
  // The pairwise order of sampled_gemm.hpp, written out.
  static float lane_tree_sum(const reg* p) {
    float t[8];
    for (int j = 0; j < 8; ++j) t[j] = p[j] + p[j + 8];
    for (int j = 0; j < 4; ++j) t[j] = t[j] + t[j + 4];
    for (int j = 0; j < 2; ++j) t[j] = t[j] + t[j + 2];
    return t[0] + t[1];
  }
  template <class Acc>
  static void lane_tree_sum4(const Acc& acc, float* out) {
    for (int u = 0; u < 4; ++u) out[u] = lane_tree_sum(acc[u]);
  }
};

#include "kernels_gemm.inl"
#include "kernels_nm.inl"
#include "kernels_sampled.inl"
#include "kernels_dense.inl"

// The 16-lane order of sparse_gemm.hpp written out: partial sums p[0..15] over the first
// 32 * floor(K / 32) columns, the fixed tree, then the tail as one chain in K order.
template <ValueKind KIND>
void small_n_kind(const SmallNArgs& s) {
  const std::size_t kh = s.k / 2;
  const std::size_t mw = sparse::meta_words_per_row(s.k);
  const std::size_t groups = s.k / 4;
  const std::size_t lane_groups = s.k / 32 * 8;
  for (std::size_t row = s.row_begin; row < s.row_end; ++row) {
    const std::uint16_t* meta = s.meta + row * mw;
    for (std::size_t j = 0; j < s.n; ++j) {
      const float* bt = s.bt + j * s.ldbt;
      float p[16] = {};
      for (std::size_t g = 0; g < lane_groups; ++g) {
        const unsigned nib = sparse::meta_nibble(meta, g);
        const std::size_t lane = (2 * g) % 16;
        p[lane] = std::fma(scalar_value<KIND>(s.values, row * kh + 2 * g), bt[4 * g + sparse::nibble_idx0(nib)], p[lane]);
        p[lane + 1] =
            std::fma(scalar_value<KIND>(s.values, row * kh + 2 * g + 1), bt[4 * g + sparse::nibble_idx1(nib)], p[lane + 1]);
      }
      for (int i = 0; i < 8; ++i) p[i] += p[i + 8];
      for (int i = 0; i < 4; ++i) p[i] += p[i + 4];
      for (int i = 0; i < 2; ++i) p[i] += p[i + 2];
      float sum = p[0] + p[1];
      for (std::size_t g = lane_groups; g < groups; ++g) {
        const unsigned nib = sparse::meta_nibble(meta, g);
        sum = std::fma(scalar_value<KIND>(s.values, row * kh + 2 * g), bt[4 * g + sparse::nibble_idx0(nib)], sum);
        sum = std::fma(scalar_value<KIND>(s.values, row * kh + 2 * g + 1), bt[4 * g + sparse::nibble_idx1(nib)], sum);
      }
      float& out = s.c[row * s.ldc + j];
      out = s.accumulate ? out + sum : sum;
    }
  }
}

// Dense 16-bit GEMV in the same order (k mod 16 lanes over the first 32 * floor(K / 32)
// columns, the tree, the tail chain).
template <ValueKind KIND>
void dense_gemv_kind(const DenseGemvArgs& s) {
  const std::size_t lane_cols = s.k / 32 * 32;
  for (std::size_t row = s.row_begin; row < s.row_end; ++row) {
    const std::uint16_t* a = s.a + row * s.lda;
    float p[16] = {};
    for (std::size_t kk = 0; kk < lane_cols; ++kk) p[kk % 16] = std::fma(scalar_value<KIND>(a, kk), s.x[kk], p[kk % 16]);
    for (int i = 0; i < 8; ++i) p[i] += p[i + 8];
    for (int i = 0; i < 4; ++i) p[i] += p[i + 4];
    for (int i = 0; i < 2; ++i) p[i] += p[i + 2];
    float sum = p[0] + p[1];
    for (std::size_t kk = lane_cols; kk < s.k; ++kk) sum = std::fma(scalar_value<KIND>(a, kk), s.x[kk], sum);
    s.y[row] = s.accumulate ? s.y[row] + sum : sum;
  }
}

void dense_gemv(const DenseGemvArgs& s) {
  if (s.kind == ValueKind::fp16) {
    dense_gemv_kind<ValueKind::fp16>(s);
  } else {
    dense_gemv_kind<ValueKind::bf16>(s);
  }
}

void small_n(const SmallNArgs& s) {
  switch (s.kind) {
    case ValueKind::fp32: small_n_kind<ValueKind::fp32>(s); break;
    case ValueKind::fp16: small_n_kind<ValueKind::fp16>(s); break;
    case ValueKind::bf16: small_n_kind<ValueKind::bf16>(s); break;
  }
}

}  // namespace

const KernelTable& table() {
  static const KernelTable t{{4, 4, 256, &gemm_tile<V, 4, 4>}, &small_n, V::kWidth, &nm_rows<V>,
                             {4, 4, &dense_tile<V, 4, 4>},
                             {1, 1, &dot_tile<V, 1, 1>, &dot_tile<V, 1, 1>},
                             &round_to_half_scalar, &dense_gemv, &first_bad_metadata_row, &sampled_rows<V>,
                             &place_rows};
  return t;
}

}  // namespace twofour::gemm::detail::scalar
