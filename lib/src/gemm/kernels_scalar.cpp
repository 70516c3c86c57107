// Portable build of the kernels: baseline x86-64 (or any) code, no SIMD assumptions. The GEMM
// tile is the same source as the SIMD builds with one-float "vectors"; small N is a plain loop.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "half.hpp"
#include "kernels.hpp"
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

// One fused multiply-add chain per output in K order, starting from C when accumulating:
// bit-equal to the reference.
template <ValueKind KIND>
void small_n_kind(const SmallNArgs& s) {
  const std::size_t kh = s.k / 2;
  const std::size_t mw = sparse::meta_words_per_row(s.k);
  const std::size_t groups = s.k / 4;
  for (std::size_t row = s.row_begin; row < s.row_end; ++row) {
    const std::uint16_t* meta = s.meta + row * mw;
    for (std::size_t j = 0; j < s.n; ++j) {
      const float* bt = s.bt + j * s.ldbt;
      float& out = s.c[row * s.ldc + j];
      float sum = s.accumulate ? out : 0.0f;
      for (std::size_t g = 0; g < groups; ++g) {
        const unsigned nib = sparse::meta_nibble(meta, g);
        sum = std::fma(scalar_value<KIND>(s.values, row * kh + 2 * g), bt[4 * g + sparse::nibble_idx0(nib)], sum);
        sum = std::fma(scalar_value<KIND>(s.values, row * kh + 2 * g + 1), bt[4 * g + sparse::nibble_idx1(nib)], sum);
      }
      out = sum;
    }
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
                                 &sampled_rows<V>};
  return t;
}

}  // namespace twofour::gemm::detail::scalar
