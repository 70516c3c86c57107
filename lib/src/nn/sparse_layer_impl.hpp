#pragma once
// Internal: the per-layer state of the 2:4 execution (sparse_layers.hpp) that Linear and Conv2d
// call into while a SparseExecutionScope is attached. Defined in sparse_linear.cpp and
// sparse_conv.cpp.
#include "sparse_weights.hpp"
#include "twofour/nn/layers.hpp"
#include "twofour/nn/sparse_layers.hpp"

#include <cstdint>
#include <vector>

namespace twofour::nn {

// Rebuilds the compressed forms of W*M (and of its transpose) when the mask changes, refreshes
// their values at every call. `at` is the (rows x cols) view of the weight, 2:4 along cols.
struct SparseWeightForms {
  detail::Compressed24 w;       // W*M, rows x cols
  detail::Compressed24 wt;      // (W*M)^T, cols x rows: usable when the mask is transposable
  std::vector<std::uint8_t> mask_seen;
  bool transposable = false;
  // False when the mask is empty or not 2:4 (the dense path runs).
  template <class At>
  bool refresh(const Parameter& p, std::size_t rows, std::size_t cols, At at) {
    if (p.mask.size() != p.value.numel() || p.mask.empty()) return false;
    if (p.mask != mask_seen) {
      mask_seen = p.mask;
      if (!w.rebuild(p.mask.data(), rows, cols, at)) {
        transposable = false;
        return false;
      }
      transposable = wt.rebuild(p.mask.data(), cols, rows, [&](std::size_t r, std::size_t c) { return at(c, r); });
    }
    if (!w.ok()) return false;
    w.refresh(p.value.data.data());
    if (transposable) wt.refresh(p.value.data.data());
    return true;
  }
};

class SparseLinear {
 public:
  explicit SparseLinear(SparseWeightGrad grad) : grad_(grad) {}
  // False: the weight's mask is not 2:4 here and the caller runs its dense path.
  bool forward(Linear& layer, const Tensor& x, Tensor& y);
  bool ran_forward() const { return ran_; }
  Tensor backward(Linear& layer, const Tensor& dy);
  SparseLayerStatus status(const Linear& layer) const;

 private:
  SparseWeightGrad grad_;
  SparseWeightForms forms_;
  bool ran_ = false;
  std::size_t n_ = 0;
  // Cache-line aligned: the sampled GEMM reads xt_ and dyt_ in place, and the 2:4 GEMM stores
  // whole vectors into yt_ and dxt_ rows.
  detail::AlignedFloats xt_, dyt_, yt_, dxt_;
  std::vector<float> wm_;
};

// A Conv2d on its compressed 2:4 weight, as a GEMM over (r, s, c)-ordered patches (conv_gemm.hpp):
// W viewed (K, R*S*C) with the channel innermost is 2:4 along its rows. Runs the batch in the
// dense layer's chunks of images (conv_chunks.hpp).
class SparseConv {
 public:
  explicit SparseConv(SparseWeightGrad grad) : grad_(grad) {}
  bool forward(Conv2d& layer, const Tensor& x, Tensor& y);
  bool ran_forward() const { return ran_; }
  Tensor backward(Conv2d& layer, const Tensor& dy);
  SparseLayerStatus status(const Conv2d& layer) const;

 private:
  SparseWeightGrad grad_;
  SparseWeightForms forms_;
  bool ran_ = false;
  std::vector<std::size_t> in_shape_;
  std::size_t oh_ = 0, ow_ = 0;
  std::vector<float> x_;                       // cached input
  std::vector<detail::AlignedFloats> col_, ym_;  // per thread: a chunk's patches and (K, positions) block
  std::vector<float> dw_chunks_;               // per chunk: its weight gradient (compressed when kept-only)
  std::vector<float> wm_;                      // W*M dense, for dX when the mask is not transposable
};

}  // namespace twofour::nn
